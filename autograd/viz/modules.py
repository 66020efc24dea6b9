"""Which nodes each nn.Module call computed, for ``draw_graph(collapse="module")``.

A call's nodes are the ancestors of its output down to (not including) its inputs, read from the
``_calls`` stamps Module.__call__ leaves on output nodes. A call whose region contains another
call's output encloses that call (a Sequential around its layers); a node reached by two calls
that do not nest (a weight shared by two layers) belongs to their innermost common enclosing call.
One walk per call that stops at inputs and jumps over enclosed calls: linear in the graph size.
"""

from __future__ import annotations

__all__ = ["ModuleCalls", "parameter_names"]

_TITLE_WIDTH = 90


class ModuleCalls:
    """The module calls of a graph: ``module``, ``out``, ``inputs`` (node indices), ``parent`` and
    ``children`` per call, ``owner`` per node (innermost call computing it, or None)."""

    def __init__(self, order: list, index: dict):
        self.module, self.out, self.inputs = [], [], []
        for i, node in enumerate(order):
            for module, inputs in getattr(node, "_calls", ()):  # innermost call first
                self.module.append(module)
                self.out.append(i)
                self.inputs.append(tuple(index[x] for x in inputs if x in index))
        self.parent: list = [None] * len(self.module)
        self._paths: dict = {}
        owner: list = [None] * len(order)
        shared: dict = {}
        outputs: dict = {}
        for call in range(len(self.module)):
            self._walk(call, order, index, owner, shared, outputs)
            outputs.setdefault(self.out[call], call)  # Module.__call__ stamps no call that returns its input
        for i, claimants in shared.items():
            owner[i] = self._common_ancestor(claimants)
        self.owner = owner
        self.children: list = [[] for _ in self.module]
        for call, parent in enumerate(self.parent):
            if parent is not None:
                self.children[parent].append(call)

    def _top(self, call: int) -> int:
        while self.parent[call] is not None:
            call = self.parent[call]
        return call

    def _walk(self, call: int, order: list, index: dict, owner: list, shared: dict, outputs: dict) -> None:
        """Claim the unowned nodes of ``call``'s region; enclose calls whose outputs lie inside it."""
        stop = set(self.inputs[call])
        stack, seen = [self.out[call]], set()
        while stack:
            i = stack.pop()
            if i in seen or i in stop:
                continue
            seen.add(i)
            inner = outputs.get(i)
            if inner is not None:  # another call's output: that call (and what encloses it) nests here
                top = self._top(inner)
                if top != call:
                    self.parent[top] = call
                    stack.extend(self.inputs[top])
            elif owner[i] is None:
                owner[i] = call
                stack.extend(index[p] for p in order[i].parents)
            elif owner[i] != call:  # computed by a call that does not nest in this one
                shared.setdefault(i, {owner[i]}).add(call)

    def depth(self, call: int) -> int:
        """How many calls enclose ``call``."""
        count = 0
        while self.parent[call] is not None:
            call, count = self.parent[call], count + 1
        return count

    def _common_ancestor(self, calls: set):
        """The innermost call enclosing all of ``calls`` (None: the top level)."""
        chains = []
        for call in calls:
            chain = []
            while call is not None:
                chain.append(call)
                call = self.parent[call]
            chains.append(chain)
        common = set(chains[0]).intersection(*chains[1:])
        return next((c for c in chains[0] if c in common), None)

    def name(self, call: int) -> str:
        """The module's attribute path inside its enclosing call's module ('0', 'encoder.fc'), or ''."""
        parent = self.parent[call]
        if parent is None:
            return ""
        if parent not in self._paths:  # one walk of each enclosing module, not one per child
            named = getattr(self.module[parent], "named_modules", None)
            paths: dict = {}
            for path, module in named() if named is not None else ():
                paths.setdefault(id(module), path)
            self._paths[parent] = paths
        return self._paths[parent].get(id(self.module[call]), "")

    def title(self, call: int) -> str:
        """'(name) ' and the first line of the module's repr, e.g. '(0) Linear(in_features=4, ...)'."""
        line = (repr(self.module[call]).splitlines() or [""])[0]
        line = line[:-1] if line.endswith("(") else line  # a container's repr opens a multi-line tree
        line = line or type(self.module[call]).__name__
        if len(line) > _TITLE_WIDTH:
            line = line[:_TITLE_WIDTH - 3] + "..."
        name = self.name(call)
        return f"({name}) {line}" if name else line


def parameter_names(order: list, index: dict) -> dict:
    """Node index -> dotted parameter name ('0.weight') for leaves of modules called in the graph;
    the outermost call's names win, as they say where the parameter sits in the whole model."""
    names, asked = {}, set()
    for node in order:
        for module, _ in getattr(node, "_calls", ()):
            named = getattr(module, "named_parameters", None)
            if named is None or id(module) in asked:
                continue
            asked.add(id(module))
            for name, parameter in named():
                if parameter in index:
                    names[index[parameter]] = name
    return names
