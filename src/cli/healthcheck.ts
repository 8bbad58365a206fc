import { type Command, expectPositionals } from "./args.ts";

// Docker runs this every interval: it imports nothing but the argument parser.
export const healthcheckCommand: Command = {
  usage: `sigilum healthcheck
  GET http://127.0.0.1:$SIGILUM_PORT/healthz; exit 0 if it answers 200 (for Docker HEALTHCHECK).`,
  options: {},
  async run({ positionals }) {
    expectPositionals(positionals, []);
    const port = process.env.SIGILUM_PORT ?? "8080";
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
        signal: AbortSignal.timeout(3000),
      });
      process.exit(res.ok ? 0 : 1);
    } catch {
      process.exit(1);
    }
  },
};
