import { flagName, SETTINGS } from "../config.ts";

// Its own module so `sigilum help` loads the settings, not the database driver.
export const SETTINGS_HELP = `Every setting is an environment variable and a serve flag (on/off ones need no value:
--trust-proxy, or --trust-proxy=false):
${Object.values(SETTINGS)
  .map(
    (s) =>
      `  ${s.env.padEnd(34)} ${flagName(s.env).padEnd(30)} ${s.help}${s.default ? ` (default ${s.default})` : ""}`,
  )
  .join("\n")}`;
