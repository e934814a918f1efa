"""Schema drift: where every environment stands, and how their schemas really differ.

One module per job:

- ``snapshot`` reads a database's schema (``read(target)`` on a session of its own, ``take(conn)``),
  through ``catalog``'s bounded queries; ``objects`` holds what it reads;
- ``compare`` reports each difference once (``differences``), with ``reconcile``'s SQL where simple;
- ``relevance`` replays the pending plan against the real schema (``replay``) to find what would
  fail or act differently, and names the pending revision behind each difference;
- ``preflight`` is what a run calls for the playbook's ``preflight.no_relevant_drift``;
- ``command.drift(source, target, ...)`` is ``runner drift`` without the command line; ``head``
  builds the code head in a throwaway cluster, ``models`` compares with SQLAlchemy models;
- ``environments.environments_status(project, {name: VAR})``: where every environment stands;
- ``render``: the text of all of these (their JSON is each result's ``as_json()``).
"""
