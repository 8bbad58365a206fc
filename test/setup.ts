// Preloaded by bunfig.toml. Tests start real servers and processes on loopback with real
// databases in temp dirs, so they get 30 s each (Bun ignores a `timeout` key in bunfig.toml).
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(30_000);
