#!/usr/bin/env python3
"""A DreamFactory provisioning script, written the way DreamFactory's docs
show: sign in to the system API, list the CI apps, create one, change it,
and clean up with ids=. Standard library only; it knows nothing of keyward.

    DF_URL=http://localhost:8080 DF_EMAIL=admin@example.com DF_PASSWORD=... ci_apps.py
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ["DF_URL"].rstrip("/") + "/api/v2"
# DreamFactory's admin app key, public in its source; every DreamFactory
# client sends one.
API_KEY = os.environ.get("DF_API_KEY", "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f7d")
session_token = None


def call(method, path, body=None, params=None):
    url = BASE + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    headers = {"X-DreamFactory-API-Key": API_KEY, "Content-Type": "application/json",
               "Accept": "application/json"}
    if session_token:
        headers["X-DreamFactory-Session-Token"] = session_token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read().decode() or "null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "null")


def must(status, body, expected=200):
    if status != expected:
        print(f"unexpected {status}: {json.dumps(body)}", file=sys.stderr)
        sys.exit(1)
    return body


status, body = call("POST", "/system/admin/session",
                    {"email": os.environ["DF_EMAIL"], "password": os.environ["DF_PASSWORD"]})
session_token = must(status, body)["session_token"]
print("signed in as", body["email"])

status, body = call("GET", "/system/app", params={
    "filter": "(name like '%ci%') and (is_active = true)", "include_count": "true",
    "fields": "id,name,api_key"})
body = must(status, body)
print("ci apps:", body["meta"]["count"], [app["name"] for app in body["resource"]])

status, body = call("POST", "/system/app", {"resource": [
    {"name": "ci-nightly", "description": "nightly build", "is_active": True, "type": 0,
     "requires_fullscreen": False, "allow_fullscreen_toggle": True, "toggle_location": "top"},
    {"name": "ci-release", "is_active": True, "type": 2, "url": "https://ci.example.com/release"},
]}, params={"fields": "id,name"})
created = must(status, body, 201)["resource"]
new_ids = [app["id"] for app in created]
print("created:", [(app["name"], app["api_key"][:3]) for app in created])

status, body = call("PATCH", "/system/app/%d" % new_ids[0], {"description": "nightly, patched"})
must(status, body)
status, body = call("GET", "/system/app/%d" % new_ids[0])
print("patched:", must(status, body)["description"])

status, body = call("GET", "/system/app", params={
    "filter": "(name like '%ci%') and (is_active = true)", "include_count": "true"})
print("ci apps now:", must(status, body)["meta"]["count"])

status, body = call("DELETE", "/system/app", params={"ids": ",".join(map(str, new_ids))})
print("deleted:", [app["id"] for app in must(status, body)["resource"]])

status, body = call("DELETE", "/system/admin/session")
print("signed out:", must(status, body)["success"])
