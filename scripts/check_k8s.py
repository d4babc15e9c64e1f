#!/usr/bin/env python3
"""Offline checks of the Kubernetes manifests in deploy/k8s (no cluster, no schema download).

check-jsonschema vendors no Kubernetes schema, so this parses every YAML document and checks what
breaks a deploy most often:

- each object has apiVersion, kind and metadata.name (and, outside the Namespace, the namespace
  named in kustomization.yaml or none);
- kustomization.yaml lists every manifest of the folder, and every file it lists exists;
- a Deployment's selector matches its pod template's labels, and each container has an image,
  readiness and liveness probes, resources and a non-root securityContext;
- a Service selects the pods of some Deployment, and its targetPort names a container port;
- every ConfigMap/Secret a pod refers to is defined.

Usage: python scripts/check_k8s.py [deploy/k8s]   (exit 1 and one line per problem when any)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


def load_all(path: Path) -> list[dict[str, Any]]:
    yaml = YAML(typ="safe", pure=True)
    return [doc for doc in yaml.load_all(path.read_text()) if doc is not None]


def check(folder: Path) -> list[str]:
    problems: list[str] = []
    kustomization = folder / "kustomization.yaml"
    if not kustomization.is_file():
        return [f"{kustomization}: missing"]
    try:
        kust = load_all(kustomization)[0]
    except (YAMLError, IndexError) as exc:
        return [f"{kustomization}: not valid YAML: {exc}"]
    namespace = kust.get("namespace")
    listed = [str(r) for r in kust.get("resources") or []]
    for name in listed:
        if not (folder / name).is_file():
            problems.append(f"{kustomization}: lists {name}, which does not exist")
    for path in sorted(folder.glob("*.y*ml")):
        if path.name != kustomization.name and path.name not in listed:
            problems.append(f"{kustomization}: does not list {path.name}")

    objects: list[tuple[Path, dict[str, Any]]] = []
    for name in listed:
        path = folder / name
        if not path.is_file():
            continue
        try:
            docs = load_all(path)
        except YAMLError as exc:
            problems.append(f"{path}: not valid YAML: {exc}")
            continue
        for doc in docs:
            if not isinstance(doc, dict):
                problems.append(f"{path}: a document is not a mapping")
                continue
            meta = doc.get("metadata") or {}
            ident = f"{path.name}: {doc.get('kind', '?')}/{meta.get('name', '?')}"
            for key in ("apiVersion", "kind"):
                if not doc.get(key):
                    problems.append(f"{ident}: no {key}")
            if not meta.get("name"):
                problems.append(f"{ident}: no metadata.name")
            ns = meta.get("namespace")
            if doc.get("kind") != "Namespace" and ns is not None and namespace is not None and ns != namespace:
                problems.append(f"{ident}: namespace {ns} differs from the kustomization's {namespace}")
            objects.append((path, doc))

    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for _, doc in objects:
        by_kind.setdefault(doc.get("kind", ""), {})[(doc.get("metadata") or {}).get("name", "")] = doc

    deployments = by_kind.get("Deployment", {})
    for name, dep in deployments.items():
        ident = f"Deployment/{name}"
        spec = dep.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problems.append(f"{ident}: spec.selector.matchLabels {selector} does not match the pod labels {labels}")
        pod = template.get("spec") or {}
        pod_sc = pod.get("securityContext") or {}
        containers = pod.get("containers") or []
        if not containers:
            problems.append(f"{ident}: no containers")
        for c in containers:
            cid = f"{ident} container {c.get('name', '?')}"
            if not c.get("image"):
                problems.append(f"{cid}: no image")
            for probe in ("readinessProbe", "livenessProbe"):
                if not c.get(probe):
                    problems.append(f"{cid}: no {probe}")
            res = c.get("resources") or {}
            if not res.get("requests") or not res.get("limits"):
                problems.append(f"{cid}: resources need requests and limits")
            sc = c.get("securityContext") or {}
            if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
                problems.append(f"{cid}: runAsNonRoot is not set")
            refs: list[tuple[str, str]] = []
            for src in c.get("envFrom") or []:
                if "configMapRef" in src:
                    refs.append(("ConfigMap", src["configMapRef"].get("name", "")))
                if "secretRef" in src:
                    refs.append(("Secret", src["secretRef"].get("name", "")))
            for env in c.get("env") or []:
                vf = env.get("valueFrom") or {}
                if "configMapKeyRef" in vf:
                    refs.append(("ConfigMap", vf["configMapKeyRef"].get("name", "")))
                if "secretKeyRef" in vf:
                    refs.append(("Secret", vf["secretKeyRef"].get("name", "")))
            for kind, ref in refs:
                if ref not in by_kind.get(kind, {}):
                    problems.append(f"{cid}: refers to {kind}/{ref}, which is not defined")

    for name, svc in by_kind.get("Service", {}).items():
        spec = svc.get("spec") or {}
        selector = spec.get("selector") or {}
        matches = [
            dep
            for dep in deployments.values()
            if selector
            and all(
                (((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels", {}).get(k) == v
                for k, v in selector.items()
            )
        ]
        if not matches:
            problems.append(f"Service/{name}: selector {selector} matches no Deployment's pods")
            continue
        port_names = {
            p.get("name")
            for dep in matches
            for c in dep["spec"]["template"]["spec"].get("containers", [])
            for p in c.get("ports") or []
        }
        for port in spec.get("ports") or []:
            target = port.get("targetPort")
            if isinstance(target, str) and target not in port_names:
                problems.append(f"Service/{name}: targetPort {target} is no container port name {sorted(port_names)}")
    return problems


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "deploy/k8s")
    problems = check(folder)
    for problem in problems:
        print(f"check_k8s: {problem}", file=sys.stderr)
    if problems:
        return 1
    count = len(list(folder.glob("*.y*ml")))
    print(f"check_k8s: {folder}: {count} files ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
