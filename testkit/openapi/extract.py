#!/usr/bin/env python3
"""Extracts, from GitHub's OpenAPI description, the response schemas of the operations the
GitHub emulator answers, for the test kit to validate the emulator's answers against.

Regenerate (the version is pinned; change it here and in README.md together):

    cd /tmp && npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
    python3 testkit/openapi/extract.py /tmp/package/generated/api.github.com.json \
        > testkit/openapi/github-operations.json

The output maps "METHOD /path/{template}" to {status: JSON Schema} and keeps the referenced
component schemas under "components". OpenAPI 3.0's `nullable: true` becomes JSON Schema's
null type, so that a JSON Schema validator reads the schemas as GitHub means them.
"""

import json
import sys

OPERATIONS = [
    ("GET", "/user"),
    ("GET", "/rate_limit"),
    ("GET", "/app/installations/{installation_id}"),
    ("POST", "/app/installations/{installation_id}/access_tokens"),
    ("GET", "/repos/{owner}/{repo}"),
    ("GET", "/repos/{owner}/{repo}/installation"),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}"),
    ("POST", "/repos/{owner}/{repo}/git/refs"),
    ("GET", "/repos/{owner}/{repo}/git/tags/{tag_sha}"),
    ("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}"),
    ("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}"),
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("GET", "/repos/{owner}/{repo}/contents/{path}"),
    ("PUT", "/repos/{owner}/{repo}/contents/{path}"),
    ("GET", "/repos/{owner}/{repo}/commits"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}"),
    ("GET", "/repos/{owner}/{repo}/releases"),
    ("POST", "/repos/{owner}/{repo}/releases"),
    ("GET", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("GET", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("GET", "/repos/{owner}/{repo}/actions/runs"),
    ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}"),
    ("GET", "/repos/{owner}/{repo}/actions/secrets"),
    ("GET", "/repos/{owner}/{repo}/actions/variables"),
    ("GET", "/repos/{owner}/{repo}/deployments"),
    ("POST", "/repos/{owner}/{repo}/deployments"),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}"),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
    ("POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
    ("GET", "/repos/{owner}/{repo}/issues"),
    ("POST", "/repos/{owner}/{repo}/issues"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/assignees"),
    ("GET", "/repos/{owner}/{repo}/assignees/{assignee}"),
    ("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("POST", "/repos/{owner}/{repo}/pulls"),
]


def resolve(doc, ref):
    node = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: `nullable` to the null type; recursively."""
    if isinstance(node, list):
        return [json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: json_schema(v) for k, v in node.items() if k not in ("nullable", "example", "examples")}
    if node.get("nullable"):
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def refs_in(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for v in node.values():
            refs_in(v, found)
    elif isinstance(node, list):
        for v in node:
            refs_in(v, found)


def main(path):
    doc = json.load(open(path))
    operations = {}
    for method, template in OPERATIONS:
        op = doc["paths"][template][method.lower()]
        statuses = {}
        for status, response in op["responses"].items():
            if "$ref" in response:
                response = resolve(doc, response["$ref"])
            content = response.get("content", {})
            media = content.get("application/json") or next(iter(content.values()), None)
            schema = (media or {}).get("schema")
            schema = json_schema(schema) if schema is not None else None
            # Every GitHub error body fits both `basic-error` and the rule-violation error (no
            # property is required of either), so a `oneOf` of them rejects them all.
            if schema is not None and not status.startswith("2") and "oneOf" in schema:
                schema["anyOf"] = schema.pop("oneOf")
            statuses[status] = schema
        operations[f"{method} {template}"] = {
            "operationId": op["operationId"],
            "responses": statuses,
        }
    wanted, done = set(), set()
    refs_in(operations, wanted)
    schemas = {}
    while wanted - done:
        name = sorted(wanted - done)[0]
        done.add(name)
        schema = json_schema(doc["components"]["schemas"][name])
        schemas[name] = schema
        refs_in(schema, wanted)
    out = {
        "source": "@octokit/openapi@23.0.2 generated/api.github.com.json (MIT, see LICENSE)",
        "operations": operations,
        "components": {"schemas": schemas},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
