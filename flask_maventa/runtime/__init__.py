"""The long-running processes: ``flask maventa worker`` (:mod:`.worker`) and ``flask maventa scheduler``
(:mod:`.scheduler`), with the database slots that let many schedulers share one timetable (:mod:`.slots`).
"""
