# archivd — see README.md. `make run` and `make test` do all set-up themselves.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
CONFIG  ?= configs/archivd.example.yaml
# Tests run in a network namespace with only loopback up (nothing can leave
# the machine), when we are root and unshare works; else as they are.
NETNS   := $(shell [ "$$(id -u)" = 0 ] && unshare --net true 2>/dev/null && echo yes)
TESTFLAGS ?= -timeout 20m -count=1

.PHONY: build run test check unit race e2e bench fuzz clean deb

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/archivd ./cmd/archivd

run:
	scripts/deps.sh run
	$(MAKE) build
	bin/archivd --config $(CONFIG) migrate
	exec bin/archivd --config $(CONFIG) serve

# Everything CI runs: static checks, the race detector, every test.
test:
	scripts/deps.sh test
	$(MAKE) check
	$(call innetns,$(GO) test -race $(TESTFLAGS) ./...)

# gofmt, go vet, staticcheck (a go.mod tool: `go tool staticcheck`) and a
# tidy go.mod; all must be clean.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) mod tidy -diff

# Debian package in bin/ (dpkg-deb, offline); see docs/OPERATIONS.md.
deb:
	VERSION=$(VERSION) packaging/debian/build-deb.sh bin

e2e: build
	$(call innetns,$(GO) test $(TESTFLAGS) -run E2E -count=1 ./e2e/...)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse$$ -fuzztime 30s ./internal/torrentfile
	$(GO) test -run '^$$' -fuzz FuzzParseMagnet -fuzztime 30s ./internal/torrentfile
	$(GO) test -run '^$$' -fuzz FuzzLoadConfig -fuzztime 30s ./internal/config

clean:
	rm -rf bin

ifeq ($(NETNS),yes)
innetns = unshare --net sh -c 'ip link set lo up && $(1)'
else
innetns = $(1)
endif
