"""The live design explorer (``nationcap explore``): one held session, a web page of controls
and views, a re-solve per change.

- :mod:`.state`  the controls of a scenario, the variant their values make, solving it on the
  held session, saving it as a scenario file and exporting its results (no web code)
- :mod:`.views`  the figures and tables of a solved variant
- :mod:`.app`    the Dash page and its callbacks (needs the ``explore`` extra)
"""
