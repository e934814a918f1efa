"""The runner's own connections to the target, and what it reads and keeps there: the run lock, the
history table, who blocks a step, and reads that can't hang."""
