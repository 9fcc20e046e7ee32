package seeder

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/anacrolix/torrent"
)

// utpHeadStart is how long an outgoing uTP dial waits for the TCP dial to
// the same address. The engine dials a peer over TCP and uTP at once and
// keeps whichever connects first; on loopback and LANs uTP often wins and
// then carries the transfer at a few MB/s where TCP reaches hundreds
// (docs/BENCHMARKS.md, "uTP on loopback" and "Repair source": 21-24 s
// instead of under 1 s for 128 MiB). With the head start TCP wins whenever
// it connects at all, and a peer reachable only over uTP costs 250 ms more.
const utpHeadStart = 250 * time.Millisecond

var errTCPConnected = errors.New("seeder: uTP dial skipped: TCP to the same address connected first")

// preferTCP replaces the engine's dialers (one per listening socket) with
// ones that give TCP a head start. The engine must be built with
// DialForPeerConns false so that these are its only dialers.
func preferTCP(cl *torrent.Client) {
	race := &dialRace{attempts: map[string]*dialAttempt{}}
	for _, l := range cl.Listeners() {
		d, ok := l.(torrent.Dialer)
		if !ok {
			continue
		}
		if strings.HasPrefix(d.DialerNetwork(), "tcp") {
			cl.AddDialer(tcpDialer{d, race})
		} else {
			cl.AddDialer(utpDialer{d, race, utpHeadStart})
		}
	}
}

// dialRace pairs the TCP and uTP dials to one address that the engine
// starts together. Entries live only while a dial to the address is in
// progress (counted by users).
type dialRace struct {
	mu       sync.Mutex
	attempts map[string]*dialAttempt
}

type dialAttempt struct {
	users     int
	done      chan struct{} // closed when the TCP dial has finished
	connected bool          // TCP connected (read after done)
	closed    bool
}

func (r *dialRace) join(addr string) *dialAttempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.attempts[addr]
	if a == nil || a.closed {
		a = &dialAttempt{done: make(chan struct{})}
		r.attempts[addr] = a
	}
	a.users++
	return a
}

func (r *dialRace) leave(addr string, a *dialAttempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a.users--
	if a.users == 0 && r.attempts[addr] == a {
		delete(r.attempts, addr)
	}
}

// tcpFinished records the outcome of the TCP dial of a.
func (r *dialRace) tcpFinished(a *dialAttempt, connected bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !a.closed {
		a.connected, a.closed = connected, true
		close(a.done)
	}
}

type tcpDialer struct {
	torrent.Dialer
	race *dialRace
}

func (d tcpDialer) Dial(ctx context.Context, addr string) (net.Conn, error) {
	a := d.race.join(addr)
	defer d.race.leave(addr, a)
	c, err := d.Dialer.Dial(ctx, addr)
	d.race.tcpFinished(a, err == nil)
	return c, err
}

type utpDialer struct {
	torrent.Dialer
	race  *dialRace
	delay time.Duration
}

// Dial waits until the TCP dial to addr has failed, or the head start has
// passed, before dialling over uTP; it does not dial when TCP connected.
func (d utpDialer) Dial(ctx context.Context, addr string) (net.Conn, error) {
	a := d.race.join(addr)
	defer d.race.leave(addr, a)
	t := time.NewTimer(d.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-a.done:
		if a.connected {
			return nil, errTCPConnected
		}
	case <-t.C:
	}
	return d.Dialer.Dial(ctx, addr)
}
