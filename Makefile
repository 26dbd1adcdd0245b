# Billing-dispute assistant. `make run` sets everything up and starts it; `make test` tests it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2

VENV   := .venv
PY     := $(VENV)/bin/python
RASA   := $(VENV)/bin/rasa
STAMP  := $(VENV)/.installed-stamp
DOMAIN := bot/domain
RASA_ARGS := --domain $(DOMAIN) --config config.yml

.PHONY: help setup venv web browser prod-deps db agent demo report train run run-prod shell test test-py test-stories validate eval-nlu finetune-experiment bench-billing soak lock clean

help:
	@echo "make run      set up (venv, .env, database, model) and start the assistant"
	@echo "make test     set up, validate data, run pytest and the end-to-end test stories"
	@echo "make run-prod production profile: PostgreSQL, Redis, RabbitMQ, replicas behind nginx"
	@echo "make report   outcome analytics from the event stream (results/report)"
	@echo "make train    train the model if data or config changed"
	@echo "make shell    chat in the terminal (action server is started too)"
	@echo "make agent USERNAME=.. NAME=..  add a console agent"
	@echo "make eval-nlu intent and sentiment measurements -> results/nlu, results/sentiment"
	@echo "make bench-billing  seed 100k customers and time the billing lookups"
	@echo "make bench    conversations at 1/10/50 concurrent vs a bare rasa init baseline -> results/bench"
	@echo "make test-security  adversarial authorization suite, rate limits, bad input, secrets scan"
	@echo "make finetune-experiment EPOCHS=1  experiment: fine-tune the sentence encoder for sentiment (Python 3.11 + PyTorch CPU)"

PY310_MISSING := Python 3.10 is required (Rasa 3.6 runs on 3.8-3.10): install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv'

$(STAMP): requirements.txt requirements-encoder.txt scripts/bootstrap_venv.sh
	$(if $(shell scripts/find_python310.sh 2>/dev/null),,$(error $(PY310_MISSING)))
	@scripts/bootstrap_venv.sh
	@touch $@

venv: $(STAMP)

.env: .env.example | $(STAMP)
	@$(PY) scripts/make_env.py

WEB_STAMP := web/node_modules/.installed-stamp

# The chat widget's socket.io client, from the npm registry (pinned by web/package-lock.json).
$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js with npm is required for the chat widget: e.g. 'apt-get install nodejs npm'"; exit 1; }
	@cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web: $(WEB_STAMP)

# Debian's Chromium and ChromeDriver for the browser tests (headless).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (echo "==> installing chromium and chromium-driver (apt)"; \
	   DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null || \
	   (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null))

# nginx (Debian's package) balances the production profile's replicas.
prod-deps:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
	  (echo "==> installing nginx (apt)"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >/dev/null || \
	   (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >/dev/null))

setup: venv .env web db

db: $(STAMP) .env
	@$(PY) -m bot.billing.seed
	@$(PY) -m bot.agents.manage seed-demo

# Add a console agent: make agent USERNAME=jdoe NAME="Jane Doe" (asks for the password).
agent: $(STAMP) .env
	@$(PY) -m bot.agents.manage add "$(USERNAME)" "$(NAME)"

# Retrains only when config, domain, data or the custom NLU components changed (scripts/train.py).
train: venv
	@$(PY) scripts/train.py

run: setup train
	@$(PY) scripts/stack.py run

# Production profile: PostgreSQL tracker store and billing DB, Redis locks, RabbitMQ events, REPLICAS
# Rasa + action servers behind nginx (settings in .env; the servers already run on this machine).
run-prod: setup prod-deps train
	@$(PY) scripts/stack.py run --profile prod

# Outcome analytics from the events the consumer stored (production profile): prints and plots.
report: venv
	@$(PY) -m bot.analytics.report

shell: setup train
	@$(PY) scripts/stack.py exec -- $(RASA) shell --endpoints endpoints.yml --model models

validate: venv
	$(RASA) data validate $(RASA_ARGS) --data data --fail-on-warnings

test-py: venv .env
	$(PY) -m pytest

# Authorization attacks, rate limits, bad input (hypothesis) and the secrets scan, against one stack.
test-security: venv .env
	$(PY) -m pytest tests/security tests/channels/test_rate_limits.py

# Test stories list every event (slots included), so Rasa evaluates the dialogue policies only;
# the real actions and database are exercised by pytest through the running servers.
test-stories: venv train
	$(RASA) test core --stories tests --model models --fail-on-prediction-errors --out results/stories

test: setup browser prod-deps train validate test-py test-stories
	@echo "make test: all checks passed"

# Every demo scenario over REST against a running `make run` (prints the transcripts).
demo: venv
	$(PY) scripts/demo_transcripts.py

# Measurements (not part of `make test`): print figures and write JSON/plots under results/.
eval-nlu: venv
	$(PY) scripts/eval_nlu.py --out results/nlu
	$(PY) scripts/eval_sentiment.py --out results/sentiment

# Experiment, not part of the assistant: fine-tune the sentence encoder for sentiment in its own
# Python 3.11 + PyTorch (CPU) environment (scripts/experiments/finetune_sentiment_encoder.py).
FT_VENV := .venv-finetune
EPOCHS ?= 1
$(FT_VENV)/.installed-stamp: requirements-finetune.txt
	python3.11 -m venv $(FT_VENV)
	$(FT_VENV)/bin/pip install -q -r requirements-finetune.txt
	@touch $@

finetune-experiment: venv $(FT_VENV)/.installed-stamp
	$(FT_VENV)/bin/python scripts/experiments/finetune_sentiment_encoder.py --epochs $(EPOCHS)
	$(PY) scripts/experiments/score_finetuned_int8.py results/finetune

bench-billing: venv
	$(PY) scripts/bench_billing.py --json results/bench_billing.json

.PHONY: bench-sentiment
bench-sentiment: venv
	$(PY) scripts/bench_sentiment.py --json results/bench_sentiment.json

# Soak: SOAK_USERS concurrent dispute conversations for SOAK_MINUTES against the production profile
# (started for the run): errors, lost messages/events, RSS of every process -> results/soak/soak.json.
SOAK_USERS ?= 50
SOAK_MINUTES ?= 10
soak: setup prod-deps train
	$(PY) scripts/soak.py --users $(SOAK_USERS) --minutes $(SOAK_MINUTES)

# End-to-end benchmark (scripts/bench.py, ~10-15 min): trains this assistant and a bare `rasa init` one,
# plays dispute conversations at 1, 10 and 50 concurrent (single server and REPLICAS behind nginx),
# prints latency/throughput/RSS/training time and the ratios, writes results/bench/bench.json + bench.png.
# BENCH_ARGS="--no-train --levels 1,10" for a quicker run.
.PHONY: bench
bench: setup prod-deps
	$(PY) scripts/bench.py $(BENCH_ARGS)

lock: venv
	$(PY) -m pip freeze --all --exclude-editable | grep -v "^pip==" > requirements.txt

clean:
	rm -rf models/*.tar.gz results
