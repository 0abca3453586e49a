"""The paper profile on one GPU: a prepared, resumable device run that fits a short allocation.

`plan` (stages in priority order, the run under a deadline, what is packed), `estimate` (predicted minutes),
`wheels` (the carried wheel set and its completeness check), `inputs` (the carried data), `pack` (split
archives that come back from the device), `dry_run` (the plan as text). `scripts/paper_on_gpu.sh` drives them.
"""
