package main

import (
	"fmt"
	"path/filepath"
	"syscall"
	"time"
)

// figRestart: BENCH_TORRENTS torrents of 1 MiB (data present). Per round,
// on fresh catalogs: archivd's first start until every torrent is
// recorded complete, then a restart after a clean stop until all of them
// are in the engine complete, once with the torrents imported through a
// collection's torrent_dir and once added with `archivd add` (the restart
// ends when the serve log shows them all seeding, see node.seeding);
// libtorrent
// adds the same torrents without resume data (it checks them) and then
// again from the resume data it saved.
func figRestart(b *bench) error {
	n := b.c.torrents
	root, tdir := b.path("many", "data"), b.path("many", "torrents")
	fmt.Printf("FIGURE restart: %d torrents of 1 MiB\n", n)
	if err := b.makeMany(root, tdir, n); err != nil {
		return err
	}
	syscall.Sync() // on disk, not dirty pages round 1's commits would write back (see set)
	torrents, err := filepath.Glob(filepath.Join(tdir, "*.torrent"))
	if err != nil {
		return err
	}
	var firstDir, firstAdd, firstLT, restDir, restAdd, restLT series
	for r := 1; r <= b.c.rounds; r++ {
		nd, err := b.newNode("", collection{Name: "many", DataRoot: root, TorrentDir: tdir})
		if err != nil {
			return err
		}
		na, err := b.newNode("")
		if err != nil {
			return err
		}
		if _, err := na.cli("collection", "create", "--data-root", root, "many"); err != nil {
			return err
		}
		if _, err := na.cli(append([]string{"add", "-c", "many"}, torrents...)...); err != nil {
			return err
		}
		for _, c := range []struct {
			n           *node
			first, rest *series
			tag         string
		}{{nd, &firstDir, &restDir, "torrent_dir"}, {na, &firstAdd, &restAdd, "add"}} {
			first, rest, err := restartRound(c.n, n, r)
			if err != nil {
				return fmt.Errorf("%s: %w", c.tag, err)
			}
			c.first.add(first.Seconds())
			c.rest.add(rest.Seconds())
			fmt.Printf("ROUND %d restart via %s: first start %.2f s, restart %.2f s\n", r, c.tag, first.Seconds(), rest.Seconds())
		}
		first, rest, err := b.ltRestart(root, tdir, r)
		if err != nil {
			return err
		}
		firstLT.add(first.Seconds())
		restLT.add(rest.Seconds())
		fmt.Printf("ROUND %d libtorrent: first start %.2f s, restart from resume data %.2f s\n", r, first.Seconds(), rest.Seconds())
	}
	result(fmt.Sprintf("restart %d torrents (torrent_dir), clean stop, to all seeding", n), "s", &restDir, "libtorrent resume", &restLT)
	result(fmt.Sprintf("restart %d torrents (add), clean stop, to all seeding", n), "s", &restAdd, "libtorrent resume", &restLT)
	result(fmt.Sprintf("first start %d torrents (torrent_dir), data present, to all complete", n), "s", &firstDir, "libtorrent check", &firstLT)
	result(fmt.Sprintf("first start %d torrents (add), data present, to all complete", n), "s", &firstAdd, "libtorrent check", &firstLT)
	return nil
}

// restartRound: first start of a fresh node until every torrent is
// recorded complete, clean stop, restart until the seeder logs that
// every torrent seeds.
func restartRound(nd *node, n, round int) (first, rest time.Duration, err error) {
	if err := nd.start(fmt.Sprintf("r%d-first", round)); err != nil {
		return 0, 0, err
	}
	at, err := nd.allComplete(n, 30*time.Minute)
	if err != nil {
		return 0, 0, err
	}
	first = at.Sub(nd.serve.started)
	// The last completions are committed; the stop must find them so.
	if err := nd.stop(); err != nil {
		return 0, 0, err
	}
	if err := nd.start(fmt.Sprintf("r%d-restart", round)); err != nil {
		return 0, 0, err
	}
	at, err = nd.seeding(n, 30*time.Minute)
	if err != nil {
		return 0, 0, err
	}
	rest = at.Sub(nd.serve.started)
	return first, rest, nd.stop()
}

// ltRestart: libtorrent adds every torrent of tdir without resume data
// (it checks the data), saves resume data and exits; then again from
// that resume data. Times are from the process start to all seeding.
func (b *bench) ltRestart(root, tdir string, round int) (first, rest time.Duration, err error) {
	rd := b.path("many", fmt.Sprintf("lt-resume-%d", round))
	arg := map[string]any{"mode": "many", "torrent_dir": tdir, "save_path": root, "resume_dir": rd, "port": b.port(), "tcp_only": true}
	for i, d := range []*time.Duration{&first, &rest} {
		p, err := b.lt(fmt.Sprintf("lt-many-r%d-%d", round, i), arg)
		if err != nil {
			return 0, 0, err
		}
		if *d, err = ltUntil(p, b, 30*time.Minute, func(s ltStatus) bool { return s.Done }); err != nil {
			return 0, 0, err
		}
		if _, err := ltUntil(p, b, 5*time.Minute, func(s ltStatus) bool { return s.Saved != nil }); err != nil {
			return 0, 0, err
		}
		if err := p.wait(time.Minute); err != nil {
			return 0, 0, err
		}
	}
	return first, rest, nil
}
