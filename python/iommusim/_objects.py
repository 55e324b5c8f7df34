"""iommusim._objects - the object tree a config builds, and running it.

One Python class per C model descriptor is generated at import time
(make_classes), so a parameter is declared once, in C. A config builds a tree
of these objects under the one Root; instantiate() checks the whole tree,
reports every problem at once (ConfigError, one "PATH.PARAM: what is wrong
(got X, expected Y)" line each), then creates the C objects in dependency
order. After that Python only calls simulate(), reset_stats() and read():
nothing here runs per simulated event.

Values are kept as the config gave them until instantiate(); they cross to
C as text in the parameter's syntax, and C parses and checks them (so a
config value, a --set value and a default obey the same rules).
"""
import collections
import json
import os
import sys

import _iommusim as _c

__all__ = ["SimObject", "Root", "ConfigError", "SimulationError", "ExitRecord",
           "instantiate", "simulate", "reset_stats", "options", "outdir", "now",
           "find", "models"]


class ConfigError(Exception):
    """Problems with the config or its objects; `errors` holds one line each."""

    def __init__(self, errors):
        if isinstance(errors, str):
            errors = [errors]
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class SimulationError(Exception):
    """The simulation itself failed (exit status 1)."""


class ExitRecord(collections.namedtuple("ExitRecord", "cause tick events host_seconds")):
    """What simulate() returns: why it stopped ('limit', 'empty', 'stop',
    'max_events'), the tick (ps) it stopped at, the events it processed and
    the host time it took."""

    __slots__ = ()

    @property
    def seconds(self):
        """The simulated time it stopped at, in seconds."""
        return self.tick / 1e12


class _Dumped(Exception):
    """--dump-config printed the tree: stop the config, exit 0."""


class _State:
    def __init__(self):
        self.root = None
        self.instantiated = False
        self.simulated = 0
        self.dumped = False
        self.objects = []           # pre-order, after instantiate()
        self.paths = {}             # path -> object, after instantiate()
        self.stats_open = False     # OUTDIR/stats.h5.tmp is being written


_state = _State()
_MODELS = {d["name"]: d for d in _c.models()}


def options():
    """The command-line options (outdir, seed, sets, dump_config, verbosity,
    progress, config) as a namespace."""
    return collections.namedtuple("Options", sorted(_c.options()))(**_c.options())


def outdir():
    """The output directory (--outdir), created on first use."""
    d = _c.options()["outdir"]
    os.makedirs(d, exist_ok=True)
    return d


def now():
    """The current simulated time, in ticks (ps)."""
    return _c.now()


def models():
    """The descriptors of every model, as dicts (name, doc, params, readouts)."""
    return dict(_MODELS)


def _suggest(name, candidates):
    import difflib                  # only for error messages: not at start-up
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def _no_param_msg(where, name, params, kind):
    hint = _suggest(name, params)
    if hint:
        return f"{where}: no parameter '{name}' (did you mean '{hint}'?)"
    if params:
        return f"{where}: no parameter '{name}' (expected one of: {', '.join(params)})"
    return (f"{where}: no parameter '{name}' (a {kind} has no parameters; "
            f"its children must be objects)")


class SimObject:
    """The base of every object of a config. Attributes that name a
    parameter set it; attributes holding a SimObject (or a list of them)
    make children; anything else is an unknown parameter, reported by
    instantiate() with the object's path."""

    _desc = None                    # the C descriptor (a dict); None: Root
    _params = {}                    # name -> parameter dict

    def __init__(self, **params):
        d = self.__dict__
        d["_values"] = {}
        d["_origin"] = {}
        d["_children"] = {}
        d["_unknown"] = []
        d["_parent"] = None
        d["_name"] = None
        d["_path"] = None
        for k, v in params.items():
            setattr(self, k, v)

    # --- building the tree ---

    def __setattr__(self, name, value):
        if name.startswith("_"):
            raise AttributeError(f"{self._where()}: names starting with '_' are reserved")
        if _state.instantiated:
            raise ConfigError(f"{self._where()}.{name}: the tree cannot change after "
                              f"instantiate() (set it before the first simulate())")
        if name in self._params:
            self._values[name] = value
            self._origin[name] = "config"
        elif isinstance(value, SimObject):
            self._adopt(name, value)
        elif (isinstance(value, (list, tuple)) and value
              and all(isinstance(v, SimObject) for v in value)):
            for i, v in enumerate(value):
                self._adopt(f"{name}{i}", v)
        else:
            self._unknown.append((name, value))

    def _adopt(self, name, child):
        if child is self or child._is_ancestor_of(self):
            raise ConfigError(f"{self._where()}.{name}: an object cannot contain itself")
        if child._parent is not None and not (child._parent is self and child._name == name):
            raise ConfigError(f"{self._where()}.{name}: this {type(child).__name__} is "
                              f"already in the tree as {child._where()} (an object has "
                              f"one place; make another one)")
        old = self._children.get(name)
        if old is not None and old is not child:
            old.__dict__["_parent"] = None
            old.__dict__["_name"] = None
        child.__dict__["_parent"] = self
        child.__dict__["_name"] = name
        self._children[name] = child

    def _is_ancestor_of(self, other):
        p = other._parent
        while p is not None:
            if p is self:
                return True
            p = p._parent
        return False

    def __getattr__(self, name):
        # Only called when normal lookup fails: children, then parameters.
        if name.startswith("_"):
            raise AttributeError(name)
        children = self.__dict__.get("_children", {})
        if name in children:
            return children[name]
        if name in self._params:
            if name in self._values:
                return self._values[name]
            return self._params[name]["default"]
        hint = _suggest(name, list(self._params) + list(children))
        raise AttributeError(f"{self._where()}: no parameter or child '{name}'"
                             + (f" (did you mean '{hint}'?)" if hint else ""))

    def _where(self):
        if self._path is not None:
            return self._path or "root"
        names = []
        o = self
        while o is not None and o._name is not None:
            names.append(o._name)
            o = o._parent
        if o is not None and isinstance(o, Root):
            return ".".join(reversed(names)) or "root"
        return f"<{type(self).__name__} not under Root>" + ("." + ".".join(reversed(names))
                                                            if names else "")

    @property
    def path(self):
        """The dotted path ("system.src"); known once the object is under Root."""
        w = self._where()
        return None if w.startswith("<") else w

    def children(self):
        return dict(self._children)

    # --- after instantiate() ---

    def readouts(self):
        """Every readout of this object now, as {name: value}."""
        if not _state.instantiated or self._path is None or self._desc is None:
            raise ConfigError(f"{self._where()}: readouts exist after instantiate()")
        return _c.read(self._path)

    def read(self, name):
        """One readout ('events', ...) of this object now."""
        vals = self.readouts()
        if name not in vals:
            hint = _suggest(name, vals)
            raise KeyError(f"{self._path}: no readout '{name}'"
                           + (f" (did you mean '{hint}'?)" if hint else
                              f" (readouts: {', '.join(vals) or 'none'})"))
        return vals[name]

    def __repr__(self):
        return f"<{type(self).__name__} {self._where()}>"


class Root(SimObject):
    """The root of the tree: exactly one per run. Its children are the
    top-level objects (root.system = System() is the path "system")."""

    def __init__(self, **children):
        if _state.root is not None:
            raise ConfigError("Root: a run has exactly one Root (one exists already)")
        super().__init__(**children)
        _state.root = self
        self.__dict__["_path"] = None


def make_classes():
    """One class per C descriptor, named after it."""
    classes = {}
    for name, desc in _MODELS.items():
        params = {p["name"]: p for p in desc["params"]}
        doc = desc["doc"] + "\n\nParameters:\n" + "\n".join(
            f"  {p['name']} ({p['type']}, default {p['default']}): {p['doc']}"
            for p in desc["params"])
        classes[name] = type(name, (SimObject,), {
            "_desc": desc, "_params": params, "__doc__": doc,
            "__module__": "iommusim"})
    return classes


# --- instantiate() ------------------------------------------------------------

def _walk(obj, path):
    obj.__dict__["_path"] = path
    yield obj
    for name, child in obj._children.items():
        yield from _walk(child, f"{path}.{name}" if path else name)


def _value_text(obj, pname, p, v, errors):
    """The text C parses for value v of parameter p, or None after an error."""
    where = f"{obj._path}.{pname}"
    tag = " [--set]" if obj._origin.get(pname) == "--set" else ""
    # A relative path in the config is relative to the config's directory,
    # so a config finds its data wherever it is run from; one given with
    # --set is relative to the working directory, as any shell argument.
    base = "" if tag else os.path.dirname(_c.options()["config"])
    if not p["list"]:
        return _item_text(where, tag, p, v, errors, base)
    if isinstance(v, str):
        if p["type"] not in ("reference", "path"):
            return v                # C parses and checks each item
        v = [item.strip() for item in v.split(",")] if v.strip() else []
    if not isinstance(v, (list, tuple)):
        errors.append(f"{where}: not a list (got {v!r}, expected a list, each item "
                      f"{p['expected']}){tag}")
        return None
    texts = []
    for i, item in enumerate(v):
        t = _item_text(f"{where}[{i}]", tag, p, item, errors, base)
        if t is None:
            return None
        texts.append(t)
    return ",".join(texts)


def _ref_target(v):
    """The object a reference value names (a SimObject or a path), or None."""
    if isinstance(v, str):
        return _state.paths.get(v)
    return v if isinstance(v, SimObject) else None


def _item_text(where, tag, p, v, errors, base=""):
    if p["type"] in ("string", "path"):
        if p["type"] == "path" and isinstance(v, os.PathLike):
            v = os.fspath(v)
        if not isinstance(v, str):
            errors.append(f"{where}: not a {p['type']} (got {v!r}, expected "
                          f"{p['expected']}){tag}")
            return None
        if p["list"] and "," in v:
            errors.append(f"{where}: a list item cannot hold a comma (got {v!r}, "
                          f"expected {p['expected']})")
            return None
        if p["type"] == "path" and v and not os.path.isabs(v):
            v = os.path.normpath(os.path.join(base, v))
        return v                    # C checks that a path names a file
    if p["type"] == "reference":
        if v is None and not p["list"]:
            return "none"
        if isinstance(v, str):
            target = _state.paths.get(v)
            if target is None:
                hint = _suggest(v, _state.paths)
                errors.append(f"{where}: refers to no object of the tree (got '{v}', "
                              f"expected the path of a {p['ref_model'] or 'object'}"
                              + (f"; did you mean '{hint}'?" if hint else "") + f"){tag}")
                return None
            v = target
        if not isinstance(v, SimObject):
            errors.append(f"{where}: not a reference (got {v!r}, expected a "
                          f"{p['ref_model'] or 'SimObject'} of the tree){tag}")
            return None
        if v._path is None or _state.paths.get(v._path) is not v:
            errors.append(f"{where}: refers to a {type(v).__name__} that is not in the "
                          f"tree (got {v._where()}, expected an object under Root)")
            return None
        if p["ref_model"] and p["ref_model"] not in (type(v).__name__,
                                                     (v._desc or {}).get("implements")):
            errors.append(f"{where}: refers to the wrong kind of object (got "
                          f"{type(v).__name__} '{v._path}', expected a {p['ref_model']})")
            return None
        if isinstance(v, Root) or v._desc is None:
            errors.append(f"{where}: cannot refer to the Root")
            return None
        return v._path
    if isinstance(v, SimObject):
        errors.append(f"{where}: not a {p['type']} (got a {type(v).__name__} object, "
                      f"expected {p['expected']})")
        return None
    if isinstance(v, bool):
        if p["type"] != "bool":
            errors.append(f"{where}: not a {p['type']} (got {v!r}, expected {p['expected']})")
            return None
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        if p["list"] and "," in v:
            errors.append(f"{where}: a list item cannot hold a comma (got {v!r}, "
                          f"expected {p['expected']})")
            return None
        return v
    errors.append(f"{where}: not a {p['type']} (got {type(v).__name__} {v!r}, "
                  f"expected {p['expected']})")
    return None


def _apply_overrides(errors):
    for spec in _c.options()["sets"]:
        lhs, _, value = spec.partition("=")
        opath, dot, pname = lhs.rpartition(".")
        if not dot or not opath or not pname:
            errors.append(f"--set {spec}: expected PATH.PARAM=VALUE (got no dotted path)")
            continue
        obj = _state.paths.get(opath)
        if obj is None or obj is _state.root:
            hint = _suggest(opath, [p for p in _state.paths if p])
            errors.append(f"--set {spec}: no object '{opath}'"
                          + (f" (did you mean '{hint}'?)" if hint else
                             f" (objects: {', '.join(p for p in _state.paths if p)})"))
            continue
        if pname not in obj._params:
            errors.append("--set " + spec + ": "
                          + _no_param_msg(opath, pname, list(obj._params),
                                          type(obj).__name__))
            continue
        obj._values[pname] = value
        obj._origin[pname] = "--set"


def _check_tree():
    """Check every object; returns (errors, {path: {param: canonical text}})."""
    errors, canon = [], {}
    for obj in _state.objects:
        if obj._desc is None and obj is not _state.root:
            errors.append(f"{obj._path}: a bare SimObject cannot be simulated "
                          f"(expected one of the models: {', '.join(_MODELS)})")
            continue
        for name, value in obj._unknown:
            errors.append(_no_param_msg(obj._path or "root", name, list(obj._params),
                                        type(obj).__name__))
        if obj._desc is None:
            continue
        texts = {}
        ok = True
        for pname, v in obj._values.items():
            t = _value_text(obj, pname, obj._params[pname], v, errors)
            if t is None:
                ok = False
            else:
                texts[pname] = t
        problems, values = _c.check(obj._desc["name"], texts)
        for pname, msg in problems:
            tag = " [--set]" if obj._origin.get(pname) == "--set" else ""
            errors.append(f"{obj._path}.{pname}: {msg}{tag}")
        if ok and not problems:
            canon[obj._path] = values
    return errors, canon


def _refs(obj):
    """(param name, object) for every object obj's parameters reference."""
    for pname, v in obj._values.items():
        p = obj._params[pname]
        if p["type"] != "reference" or v is None:
            continue
        if p["list"]:
            items = v.split(",") if isinstance(v, str) else v
        else:
            items = [v]
        for item in items:
            t = _ref_target(item.strip() if isinstance(item, str) else item)
            if isinstance(t, SimObject) and t._desc is not None:
                yield pname, t


def _event_sets(order):
    """Each object's event set: the connected parts of the graph of references
    and of created containers (a System and what it holds).

    Objects that no chain of references joins cannot touch each other's
    events, so each part runs in an event set of its own (engine/object.h:
    the same statistics, at about half the host cost of one shared set for
    four machines). Sets are numbered by their first object in creation
    order, so the numbering is deterministic. --one-event-set puts
    everything in set 0."""
    parent = {id(o): id(o) for o in order}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        a, b = find(a), find(b)
        if a != b:
            parent[a] = b

    for obj in order:
        for _, t in _refs(obj):
            if id(t) in parent:
                union(id(obj), id(t))
        # A created container (a System) keeps its subtree together: one
        # machine, one set, even where nothing references the container.
        up = obj._parent
        if up is not None and id(up) in parent:
            union(id(obj), id(up))
    if _c.options().get("one_event_set"):
        return {id(o): 0 for o in order}, 1
    number, sets = {}, {}
    for obj in order:
        root = find(id(obj))
        if root not in number:
            number[root] = len(number)
        sets[id(obj)] = number[root]
    return sets, max(len(number), 1)


def _creation_order(errors):
    """Objects in pre-order, moved after what they reference; cycles are errors."""
    order, state = [], {}
    refs = _refs

    def visit(obj, chain):
        s = state.get(id(obj))
        if s == 2:
            return
        if s == 1:
            cyc = " -> ".join(o._path for o in chain[chain.index(obj):] + [obj])
            errors.append(f"{obj._path}: reference cycle ({cyc})")
            return
        state[id(obj)] = 1
        for _, t in refs(obj):
            visit(t, chain + [obj])
        state[id(obj)] = 2
        order.append(obj)

    for obj in _state.objects:
        if obj._desc is not None:
            visit(obj, [])
    return order


def _plain(p, text):
    """A canonical text as the JSON value a reader wants."""
    if p["list"]:
        return [_plain(dict(p, list=False), t) for t in text.split(",")] if text else []
    ptype = p["type"]
    if ptype == "int":
        return int(text, 0)
    if ptype == "bool":
        return text == "true"
    if ptype in ("float", "ratio"):
        return float(text)
    if ptype == "reference":
        return None if text == "none" else text
    return text


def _config_json(canon):
    objs = {}
    for obj in _state.objects:
        if obj is _state.root:
            continue
        entry = {"type": type(obj).__name__, "children": list(obj._children)}
        if obj._desc is not None:
            entry["params"] = {p["name"]: _plain(p, canon[obj._path][p["name"]])
                               for p in obj._desc["params"]}
        objs[obj._path] = entry
    return {"iommusim_config": 1, "config": _c.options()["config"],
            "seed": _c.options()["seed"], "objects": objs}


def _write_atomic(path, text):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def instantiate():
    """Check the whole tree and create the C objects. Raises ConfigError
    listing every problem found. Called by the first simulate() if the
    config does not call it."""
    if _state.instantiated:
        raise ConfigError("instantiate: already instantiated (call it once)")
    root = _state.root
    if root is None:
        raise ConfigError("no Root: build the tree under iommusim.Root() "
                          "(root = Root(); root.system = System())")
    _state.objects = list(_walk(root, ""))
    _state.paths = {o._path: o for o in _state.objects}
    errors = []
    _apply_overrides(errors)
    check_errors, canon = _check_tree()
    errors += check_errors
    order = _creation_order(errors)
    if errors:
        raise ConfigError(errors)
    doc = _config_json(canon)
    text = json.dumps(doc, indent=2) + "\n"
    if _c.options()["dump_config"]:
        sys.stdout.write(text)
        sys.stdout.flush()
        _state.dumped = True
        raise _Dumped()
    sets, nsets = _event_sets(order)
    _c.event_sets(nsets)
    for obj in order:
        try:
            _c.create(obj._desc["name"], obj._path, canon[obj._path], sets[id(obj)])
        except ValueError as e:
            _c.reset()
            raise ConfigError(str(e)) from None
    try:
        _c.start()
    except ValueError as e:
        raise SimulationError(str(e)) from None
    _state.instantiated = True
    path = os.path.join(_c.options()["outdir"], "config.json")
    try:
        _write_atomic(os.path.join(outdir(), "config.json"), text)
    except OSError as e:
        raise SimulationError(f"{path}: cannot write ({e.strerror})") from None
    try:
        nstats = _c.stats_open(text)
        _state.stats_open = True
        period = _c.options()["stats_period"]
        if period:
            _c.stats_period(period)
    except RuntimeError as e:
        raise SimulationError(str(e)) from None
    if _c.options()["verbosity"] >= 2:
        print(f"iommusim: instantiated {len(order)} objects in {nsets} event "
              f"set{'s' if nsets != 1 else ''}; config in "
              f"{os.path.join(outdir(), 'config.json')}; {nstats} statistics",
              file=sys.stderr)


def _stats_period_ticks(value):
    """simulate(stats_period=...) as ticks: a time such as '10us', or 0."""
    if value == 0 and not isinstance(value, bool):
        return 0
    if not isinstance(value, str):
        raise TypeError(f"simulate(stats_period={value!r}): expected a time such as "
                        f"'10us', or 0 for the final dump only")
    if value.strip() == "0":
        return 0
    try:
        return _c.parse_time(value)
    except ValueError as e:
        raise ConfigError(f"simulate(stats_period={value!r}): {e}") from None


def _stats_close(complete):
    """Final dump, stats.txt and stats.h5 in place (the runner calls it at
    the end of the run). Returns the number of dumps, or None if statistics
    were never opened. Raises SimulationError if they cannot be written."""
    if not _state.stats_open:
        return None
    _state.stats_open = False
    try:
        return _c.stats_close(complete)
    except RuntimeError as e:
        raise SimulationError(str(e)) from None


def find(path):
    """The object at a dotted path ("system.src"), after instantiate()."""
    if path not in _state.paths:
        hint = _suggest(path, _state.paths)
        raise KeyError(f"no object '{path}'" + (f" (did you mean '{hint}'?)" if hint else ""))
    return _state.paths[path]


def simulate(until=None, max_events=0, stats_period=None):
    """Run the simulation until the simulated time `until` (a time such as
    '1ms', absolute from the start), or until no events are left; stop early
    after `max_events` events (0: no cap). Returns an ExitRecord. May be
    called repeatedly; the first call instantiates the tree.

    stats_period (a time such as '10us', or 0): from now on, dump the
    statistics into OUTDIR/stats.h5 at every multiple of it (0: only the
    final dump at the end of the run). It stays in force for later calls;
    --stats-period on the command line overrides it."""
    if until is not None and not isinstance(until, str):
        raise TypeError(f"simulate(until={until!r}): expected a time such as '1ms'")
    if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0:
        raise TypeError(f"simulate(max_events={max_events!r}): expected an integer >= 0")
    ticks = 0
    if until is not None:
        try:
            ticks = _c.parse_time(until)
        except ValueError as e:
            raise ConfigError(f"simulate(until={until!r}): {e}") from None
    period = None if stats_period is None else _stats_period_ticks(stats_period)
    if not _state.instantiated:
        instantiate()
    if period is not None and _c.options()["stats_period"] is None:
        _c.stats_period(period)
    try:
        cause, tick, events, host = _c.simulate(until is not None, ticks, max_events)
    except RuntimeError as e:
        raise SimulationError(str(e)) from None
    _state.simulated += 1
    rec = ExitRecord(cause, tick, events, host)
    if _c.options()["verbosity"] >= 2:
        print(f"iommusim: simulate: {cause} at {tick / 1e12:.9g} s after {events} events "
              f"({host:.3f} s host)", file=sys.stderr)
    return rec


def reset_stats():
    """Zero every object's readouts and statistics: warm up, then reset,
    then measure. Later dumps in stats.h5 count from here (/dumps/reset_tick
    says where each dump's span starts)."""
    if not _state.instantiated:
        raise ConfigError("reset_stats: nothing instantiated yet (call simulate() first)")
    _c.reset_stats()
