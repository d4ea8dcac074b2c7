"""What every capability leans on at run time: `checks` (argument checks and their errors),
`seeds`, `sums` (order-independent sums), `tracing` (quiet intended retracing), `devices`,
`memory` (a run's memory estimated at the door), `signals` (Ctrl-C keeps what was made),
`folder_lock` and `claims` (runs that share an output folder)."""
