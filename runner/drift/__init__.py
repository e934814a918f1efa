"""Schema drift: where every environment stands, and how their schemas really differ.

- ``snapshot.read(target)`` / ``snapshot.take(conn)``: a database's schema from its catalogs,
  bounded by lock and statement timeouts, never failing on what it can't read (noted instead);
- ``compare.compare(source, target)``: each difference once, with reconcile SQL where simple;
- ``relevance.conflicts(steps, snapshot)``: what in the database makes a pending step fail or
  behave differently; ``relevance.explain(...)``: which pending revision accounts for a difference;
- ``command.drift(source, target, ...)``: the orchestration behind ``runner drift``;
- ``environments.environments_status(project, {name: VAR})``: where every environment stands;
- ``render``: the text and JSON of all of these.
"""
