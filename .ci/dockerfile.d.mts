// Types of .ci/dockerfile.mjs, for test/deploy/packaging.test.ts.
export interface Instruction {
  keyword: string;
  args: string;
  json: string[] | undefined;
  flags: Record<string, string | true>;
  subcommand: string | undefined;
}
export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}
export function parseDockerfile(text: string): { stages: Stage[] };
export function envPairs(args: string): [string, string][];
export function parseDockerignore(text: string): string[];
export function ignored(entries: string[], path: string): boolean;
export function copyParts(instruction: Instruction): { sources: string[]; destination: string };
export function assemble(
  dockerfile: string,
  context: string,
  out: string,
): {
  root: string;
  workdir: string;
  dir: string;
  env: Record<string, string>;
  user: string | undefined;
  cmd: string[] | undefined;
  skipped: string[];
  runs: { command: string; seconds: number }[];
};
export function copyContext(repository: string, out: string): number;
