// A `deberta-lab` sub-command. Commands print results on stdout, progress and errors on stderr,
// and return the process exit code. Throwing a LabError prints "error [CODE]: message" and exits 1.

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

export interface CliCommand {
  name: string
  /** One line for `deberta-lab --help` */
  summary: string
  /** Full usage text for `deberta-lab <name> --help` */
  usage: string
  run(argv: string[], io: CliIo): Promise<number>
}
