"""The jobs of the `samplevis` command, one module each (`layers`, `render`, `sample`, `atlas`,
`examples`, `gallery`): what each runs, writes and prints. `shell` holds what they share: exit
statuses, output that a closed pipe ends, and writes that fall back to a temporary folder;
`quiet` keeps TensorFlow's start-up log out of every command's output.
`samplevis.cli` parses the command line and runs them.
"""
