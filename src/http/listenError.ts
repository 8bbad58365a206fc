import { type Config, ConfigError } from "../config.ts";

/**
 * Why the server could not listen, as one line naming the setting to change (operations.md §5),
 * instead of Bun's "EADDRNOTAVAIL: address not available, listen".
 */
export function listenError(err: unknown, config: Pick<Config, "host" | "port">): ConfigError {
  const code = (err as { code?: string }).code ?? "";
  const { host, port } = config;
  switch (code) {
    case "EADDRINUSE":
      return new ConfigError(
        `SIGILUM_PORT: ${port} is already in use on ${host}; stop the other server or choose another port (0 picks a free one)`,
      );
    case "EACCES":
      return new ConfigError(
        `SIGILUM_PORT: not allowed to listen on port ${port} (ports below 1024 need privileges); choose a port from 1024 up`,
      );
    case "EADDRNOTAVAIL":
    case "ENOENT":
    case "ENOTFOUND":
    case "EAI_NONAME":
      return new ConfigError(
        `SIGILUM_HOST: ${host} is not an address of this machine; use one of its addresses, 127.0.0.1 (local only) or 0.0.0.0 (all)`,
      );
    default:
      return new ConfigError(
        `SIGILUM_HOST/SIGILUM_PORT: cannot listen on ${host}:${port}: ${(err as Error).message}`,
      );
  }
}
