"""The pages the load bench opens, in turn: (name in the report, address)."""

PAGES = [
    ("policies", "/policies/"),
    ("policies filtered + search", "/policies/?workspace=ws-07&q=allow-web"),
    ("policy detail", "/policies/project-0000/allow-web-0/"),
    ("workspaces", "/workspaces/"),
    ("projects", "/projects/"),
    ("traffic paths", "/traffic/"),
    ("history", "/history/"),
    ("reachability", "/reachability/"),
]
