"""Design questions: which values of a scenario key meet targets on the results (:mod:`.target`).

It solves many variants of one loaded scenario on a :class:`~nationcap.session.Session` and sits
beside ``batch/`` and ``report/`` (above the pipeline, below the command line).
"""
