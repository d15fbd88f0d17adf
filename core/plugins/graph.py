"""The dependency graph between plugins: order, closures and cycles."""


class CycleError(ValueError):
    def __init__(self, cycle):
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(cycle))


def topological_order(depends):
    """Names in an order where every plugin follows its dependencies.

    ``depends`` maps a name to the names it depends on (all present as keys).
    Ties are broken by name, so the order is the same on every machine.
    """
    order, state = [], {}

    def visit(name, path):
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            start = path.index(name)
            raise CycleError(path[start:] + [name])
        state[name] = "visiting"
        for dep in sorted(depends[name]):
            visit(dep, path + [name])
        state[name] = "done"
        order.append(name)

    for name in sorted(depends):
        visit(name, [])
    return order


def find_cycles(depends):
    """Names that are on (or depend on) a cycle, each with the cycle's description."""
    broken = {}
    for name in sorted(depends):
        try:
            topological_order(_closure_graph(depends, name))
        except CycleError as exc:
            broken[name] = exc
    return broken


def _closure_graph(depends, name):
    seen, todo = {}, [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen[current] = [dep for dep in depends.get(current, ()) if dep in depends]
        todo.extend(seen[current])
    return seen


def dependencies(depends, name):
    """Every plugin ``name`` needs, directly or not, dependencies first."""
    graph = _closure_graph(depends, name)
    return [n for n in topological_order(graph) if n != name]


def dependents(depends, name):
    """Every plugin that needs ``name``, directly or not, in dependency order."""
    found = {
        other for other in depends if other != name and name in dependencies(depends, other)
    }
    return [n for n in topological_order(depends) if n in found]
