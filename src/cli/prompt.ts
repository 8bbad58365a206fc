import { CliError } from "./args.ts";

/** The first line of stdin (a pipe or a file), without its line ending. */
export async function readStdinLine(): Promise<string> {
  const text = await new Response(Bun.stdin.stream()).text();
  return (text.split("\n")[0] ?? "").replace(/\r$/, "");
}

/**
 * Asks on the terminal with echo off (raw mode), so the answer never shows on screen or in a
 * scroll-back. Backspace edits; Ctrl-C and Ctrl-D abort. The prompt goes to stderr.
 */
export function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt shows, so an answer typed at once is not echoed either.
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(prompt);
  let answer = "";
  return new Promise((resolve, reject) => {
    const finish = (error: Error | null) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish(null);
        if (ch === "\u0003" || ch === "\u0004") return finish(new CliError("cancelled", 130));
        if (ch === "\u007f" || ch === "\b") answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on("data", onData);
  });
}
