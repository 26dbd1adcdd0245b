"""Run the model's graph nodes in dependency order, without dask's scheduler.

Rasa 3.6 runs the trained graph through ``DaskGraphRunner.run`` once per message (NLU) and once per
predicted action (policies): every call cuts the schema down to the targets, builds a dask graph and
hands it to ``dask.get``, whose synchronous scheduler then orders, caches and releases the tasks.
For these small graphs (a dozen nodes, one thread) that machinery cost ~4 % of the Rasa server's
CPU in ``make bench``, about a fifth of what the components themselves cost.

Here the order of the nodes each set of targets needs is computed once (the schema of a loaded model
does not change) and each run calls the same ``GraphNode`` objects in that order with the same
arguments dask would pass: each parent's ``(node name, output)`` result, and each input as
``(input name, value)``. Errors surface as they do under dask (the component's exception;
``RuntimeError`` as ``GraphRunError``). ``tests/runtime/test_graph_runner.py`` runs the trained model
both ways on the same messages and conversations and compares the outputs.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

_ORIGINAL = DaskGraphRunner.run
PLANS_ATTRIBUTE = "_northwind_plans"

Plan = List[Tuple[Text, Tuple[Text, ...]]]  # (node, the names its arguments come from), in order


def _plan(runner: DaskGraphRunner, targets: Tuple[Text, ...]) -> Plan:
    plans: Dict[Tuple[Text, ...], Plan] = runner.__dict__.setdefault(PLANS_ATTRIBUTE, {})
    plan = plans.get(targets)
    if plan is None:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        order: Plan = []
        placed: set = set()

        def place(name: Text) -> None:  # depth-first: parents before children
            if name in placed or name not in schema.nodes:
                return
            placed.add(name)
            needs = tuple(schema.nodes[name].needs.values())
            for parent in needs:
                place(parent)
            order.append((name, needs))

        for name in schema.nodes:
            place(name)
        plan = plans[targets] = order
    return plan


def run(
    self: DaskGraphRunner,
    inputs: Optional[Dict[Text, Any]] = None,
    targets: Optional[List[Text]] = None,
) -> Dict[Text, Any]:
    """``DaskGraphRunner.run`` with the same results."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    plan = _plan(self, run_targets)
    results: Dict[Text, Any] = {}
    if inputs:
        for name, value in inputs.items():
            if isinstance(value, str) and any(name_ == value for name_, _ in plan):
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of the input "
                    f"names passed to the `run` method are the same as node names in the graph schema.")
            results[name] = (name, value)
    try:
        for name, needs in plan:
            if name not in results:  # an input named like a node replaces it, as in the dask graph
                results[name] = self._instantiated_nodes[name](*(results[parent] for parent in needs))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(results[target] for target in run_targets)


def install() -> None:
    DaskGraphRunner.run = run  # type: ignore[assignment]


def uninstall() -> None:
    DaskGraphRunner.run = _ORIGINAL  # type: ignore[assignment]


__all__ = ["install", "run", "uninstall"]
