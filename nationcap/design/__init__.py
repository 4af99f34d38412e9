"""Design questions: which values of a scenario key meet targets on the results (:mod:`.target`), searched
over the key's natural domain unless a range is given (:mod:`.domain`).

It solves many variants of one loaded scenario on a :class:`~nationcap.session.Session` and sits
beside ``batch/`` and ``report/`` (above the pipeline, below the command line).
"""
