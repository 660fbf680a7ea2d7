"""Background work: the task functions, their schedules, and the runners that drive them.

`carebird serve` runs them in-process (`jobs/embedded.py`); `carebird worker` runs them under
procrastinate on PostgreSQL (`jobs/worker.py`). Both call the same functions (`jobs/tasks.py`)
on the schedules declared once in `jobs/schedule.py`.
"""
