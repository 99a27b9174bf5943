"""tests/python/test_stubs.py — the shipped type stubs (.pyi) describe the package as it is: every
public name of attend, attend.dask and attend.pipelines is stubbed with a docstring, and every
stubbed function or method takes the parameters the real one takes."""
import ast
import dataclasses
import inspect
import os

import pytest

import attend
import attend.dask
import attend.pipelines

PKG = os.path.dirname(attend.__file__)


def _stub(module_name):
    path = os.path.join(PKG, module_name + ".pyi")
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), path)


def _defs(tree):
    """{qualified name: ast node} of the stub's functions and classes (methods as Class.name)."""
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = node
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef):
                    out.setdefault(f"{node.name}.{sub.name}", sub)
    return out


def _params(fn):
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    if a.vararg:
        names.append("*" + a.vararg.arg)
    if a.kwarg:
        names.append("**" + a.kwarg.arg)
    return [n for n in names if n != "self"]


def _runtime_params(obj):
    out = []
    for p in inspect.signature(obj).parameters.values():
        if p.name == "self":
            continue
        prefix = "*" if p.kind == p.VAR_POSITIONAL else "**" if p.kind == p.VAR_KEYWORD else ""
        out.append(prefix + p.name)
    return out


@pytest.mark.parametrize("module,stub", [(attend, "__init__"), (attend.dask, "dask"), (attend.pipelines, "pipelines")])
def test_stubs_match_the_modules(module, stub):
    tree = _stub(stub)
    defs = _defs(tree)
    assert ast.get_docstring(tree)
    public = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    checked = 0
    for name in public:
        obj = getattr(module, name)
        if getattr(obj, "__module__", "").startswith("attend._attend") or inspect.ismodule(obj):
            continue  # re-exported from the extension (its own stub) or a module
        if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != module.__name__:
            continue
        assert name in defs, f"{stub}.pyi lacks {name}"
        node = defs[name]
        if inspect.isfunction(obj):
            assert ast.get_docstring(node), f"{stub}.pyi: {name} has no docstring"
            assert _params(node) == _runtime_params(obj), name
            checked += 1
            continue
        assert ast.get_docstring(node), f"{stub}.pyi: class {name} has no docstring"
        members = {}
        for klass in reversed(obj.__mro__):  # inherited members of the module's own base classes too
            if klass.__module__ == module.__name__:
                members.update(vars(klass))
        for mname, member in members.items():
            if mname.startswith("_") and mname not in ("__init__", "__call__"):
                continue
            if mname == "__init__" and dataclasses.is_dataclass(obj):
                continue  # generated from the fields, which the stub lists
            if isinstance(member, property):
                assert f"{name}.{mname}" in defs, f"{stub}.pyi lacks {name}.{mname}"
                continue
            if not inspect.isfunction(member):
                continue
            assert f"{name}.{mname}" in defs, f"{stub}.pyi lacks {name}.{mname}"
            fn = defs[f"{name}.{mname}"]
            assert _params(fn) == _runtime_params(member), f"{name}.{mname}"
            checked += 1
    assert checked >= 2


def test_extension_stub_names_exist():
    for name, node in _defs(_stub("_attend")).items():
        owner, _, attr = name.partition(".")
        obj = getattr(attend._attend, owner)
        if attr:
            assert hasattr(obj, attr), name
        assert ast.get_docstring(node) or attr in ("__init__", "__iter__", "__next__") or not attr, name
