# The two commands: `make run` (the console on the built-in demo cluster) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint unit messages services testenv dex oidc-provider realapi conformance bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

# network-config-analyzer, the differential oracle of the reachability tests, pins an older
# PyYAML, so it lives in a virtualenv of its own and is called as a separate process.
.venv-nca/.installed:
	$(PYTHON) -m venv .venv-nca
	.venv-nca/bin/pip install -q network-config-analyzer==2.1.0
	touch $@

# The translations: locale/*/LC_MESSAGES/django.po compiled to the .mo files Django reads, with
# GNU gettext's msgfmt (`make services` installs it). The .mo files are committed too, so `make
# run` and the container image work without gettext. After changing user-facing strings:
# `$(PY) manage.py makemessages -l zh_Hans $(MESSAGE_IGNORES)`, translate, then `make messages`.
MESSAGE_IGNORES := --ignore '.venv*' --ignore node_modules --ignore static-src --ignore data \
	--ignore test-artifacts --ignore tests --ignore bench --ignore tools \
	--ignore kubesim --ignore cluster --ignore static
messages: $(VENV)/.installed
	@if command -v msgfmt >/dev/null 2>&1; then $(PY) manage.py compilemessages $(MESSAGE_IGNORES) >/dev/null; \
	else echo "msgfmt not found (apt-get install gettext): using the committed .mo files"; fi

run: $(VENV)/.installed messages
	DEBUG=$${DEBUG:-1} $(PY) manage.py devserver $(if $(filter real,$(CLUSTER)),--real-cluster) $(RUN_ARGS)

services:
	@bash deploy/test-services.sh

# A real kube-apiserver + etcd built from the Kubernetes Go modules (once; cached in .cache/).
testenv:
	@bash tools/kube-testenv/build.sh >/dev/null

# The OpenID providers of the single sign-on tests (once; cached in .cache/): Dex built from
# the Go module proxy with a test LDAP directory for its users' groups, and the npm
# oidc-provider.
dex:
	@bash tools/dex/build.sh >/dev/null

oidc-provider:
	@bash tools/oidc-provider/install.sh >/dev/null

realapi: $(VENV)/.installed testenv
	$(VENV)/bin/pytest -q -m realapi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: $(VENV)/.installed .venv-nca/.installed services messages testenv dex oidc-provider lint
	$(VENV)/bin/pytest -q

unit: $(VENV)/.installed
	$(VENV)/bin/pytest -q -m "not integration and not browser and not realapi"

conformance: $(VENV)/.installed
	$(VENV)/bin/pytest -q tests/kubesim/test_conformance.py

# The load generator of bench/console_load_bench.py (locust, gevent) lives apart from the console.
.venv-bench/.installed: requirements-bench.txt
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install -q -r requirements-bench.txt
	touch $@

bench: $(VENV)/.installed .venv-bench/.installed
	@for script in bench/*_bench.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) data test-artifacts
