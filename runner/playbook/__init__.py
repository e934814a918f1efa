"""Declarative YAML playbooks: what an operator reviews before a window, and what the runner obeys in it."""

from runner.playbook.book import Playbook, StepRules
from runner.playbook.loader import load_playbook
from runner.playbook.problems import InvalidPlaybook

__all__ = ["InvalidPlaybook", "Playbook", "StepRules", "load_playbook"]
