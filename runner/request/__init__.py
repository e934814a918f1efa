"""One run request, however the run was asked for: command-line flags, a playbook, a rehearsal."""
