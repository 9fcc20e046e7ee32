package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/spf13/cobra"
)

type showOptions struct {
	Ref  string
	JSON bool
}

type showView struct {
	torrentView
	Files        []catalog.File `json:"files"`
	OpenFindings int            `json:"open_findings"`
	// Findings: the open ones (not repaired), at most maxShownFindings.
	Findings []catalog.VerifyFinding `json:"findings"`
	// Peers the daemon saw, newest first (it records them every 30s and
	// at stop); Live counts those seen within livePeerWindow.
	Peers     []catalog.Peer `json:"peers"`
	LivePeers int            `json:"live_peers"`
	// Replicas: every node's copy (the fields above are this node's).
	Replicas []catalog.Replica `json:"replicas"`
}

// livePeerWindow: a peer seen this recently is counted as connected (the
// daemon refreshes last_seen_at of connected peers every 30 seconds).
const livePeerWindow = 2 * time.Minute

// maxShownFindings bounds the findings show prints; the count is exact and
// 'archivd report' has them all.
const maxShownFindings = 20

func newShowCmd(a *app) *cobra.Command {
	var o showOptions
	cmd := newOneArgCmd("show NAME|INFOHASH", "Show one torrent: fields, files, completion, transfer totals, open findings", "a torrent NAME or INFOHASH", &o.Ref,
		func(ctx context.Context) error { return runShow(ctx, a, o) })
	jsonFlag(cmd, &o.JSON)
	return cmd
}

func runShow(ctx context.Context, a *app, o showOptions) error {
	load := func(db *catalog.DB) (showView, error) {
		v, err := loadShowView(ctx, db, o.Ref)
		if err != nil {
			return v, fmt.Errorf("show %s: %w", o.Ref, err)
		}
		return v, nil
	}
	return showOne(ctx, a, "show", o.JSON, load, func(v showView) { printShow(a, v) })
}

func loadShowView(ctx context.Context, db *catalog.DB, ref string) (showView, error) {
	t, err := db.TorrentByRef(ctx, ref)
	if err != nil {
		return showView{}, err
	}
	tv, err := viewOf(ctx, db, t)
	if err != nil {
		return showView{}, err
	}
	v := showView{torrentView: tv}
	if v.Replicas, err = db.Replicas(ctx, t.ID); err != nil {
		return v, err
	}
	for _, r := range v.Replicas {
		v.Nodes = append(v.Nodes, r.Node)
	}
	if v.Files, err = db.Files(ctx, t.ID); err != nil {
		return v, err
	}
	if v.Files == nil {
		v.Files = []catalog.File{}
	}
	if err := loadFindings(ctx, db, &v); err != nil {
		return v, err
	}
	peers, err := db.PeersOf(ctx, []int64{t.ID}, 50)
	if err != nil {
		return v, err
	}
	v.Peers = peers[t.ID]
	if v.Peers == nil {
		v.Peers = []catalog.Peer{}
	}
	for _, p := range v.Peers {
		if time.Since(p.LastSeenAt) < livePeerWindow {
			v.LivePeers++
		}
	}
	return v, nil
}

func loadFindings(ctx context.Context, db *catalog.DB, v *showView) error {
	var err error
	if v.OpenFindings, err = db.OpenFindingCount(ctx, v.ID); err != nil {
		return err
	}
	f := catalog.VerifyFindingFilter{TorrentID: v.ID, States: catalog.OpenFindingStates, Limit: maxShownFindings}
	if v.Findings, err = db.VerifyFindings(ctx, f); err != nil {
		return err
	}
	if v.Findings == nil {
		v.Findings = []catalog.VerifyFinding{}
	}
	return nil
}

func printFindings(a *app, v showView) {
	if len(v.Findings) == 0 {
		return
	}
	rows := make([]string, len(v.Findings))
	for i, f := range v.Findings {
		rows[i] = fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s", f.Range(), f.Kind, f.State, orDash(f.FilePath),
			f.DetectedAt.Format("2006-01-02 15:04:05"), f.LastSeenAt.Format("2006-01-02 15:04:05"), f.SeenCount, orDash(f.Detail))
	}
	a.printf("findings:\n")
	_ = table(a.stdout, "PIECES\tKIND\tSTATE\tFILE\tDETECTED\tLAST SEEN\tSEEN\tDETAIL", rows)
	if more := v.OpenFindings - len(v.Findings); more > 0 {
		a.printf("... and %d more: see 'archivd report'\n", more)
	}
}

func printShow(a *app, v showView) {
	a.printf("name:          %s\ninfohash:      %s\ncollection:    %s\nstate:         %s\n", v.Name, v.InfoHashHex, v.Collection, v.EffectiveState)
	avail := string(v.Availability)
	if v.AvailabilityReason != "" {
		avail += " (" + v.AvailabilityReason + ")"
	}
	if !v.Local {
		avail = "no replica on this node (" + orDash(v.Node) + ")"
	}
	a.printf("availability:  %s\ndata dir:      %s\n", avail, v.DataDir)
	if !v.HasMetainfo() {
		a.printf("metadata:      not fetched yet (magnet %s)\n", v.Magnet)
	}
	a.printf("size:          %s (%d bytes)\npieces:        %d of %s\n", human.Bytes(v.TotalLength), v.TotalLength, v.PieceCount, human.Bytes(v.PieceLength))
	a.printf("complete:      %d pieces (%.1f%%), %d not yet hashed\n", v.PiecesComplete, v.CompletePct, v.PieceCount-v.PiecesKnown)
	a.printf("uploaded:      %s\ndownloaded:    %s\nopen findings: %d\n", human.Bytes(v.Uploaded), human.Bytes(v.Downloaded), v.OpenFindings)
	a.printf("peers:         %d seen in the last %s, %d known\n", v.LivePeers, livePeerWindow, len(v.Peers))
	a.printf("trackers:      %s\nweb seeds:     %s\nadded:         %s\n", orDash(strings.Join(v.Trackers, " ")),
		orDash(strings.Join(v.WebSeeds, " ")), v.AddedAt.Format("2006-01-02 15:04:05 MST"))
	rows := make([]string, len(v.Files))
	for i, f := range v.Files {
		rows[i] = fmt.Sprintf("%d\t%s\t%d", f.Index, f.Path, f.Length)
	}
	a.printf("files:\n")
	_ = table(a.stdout, "INDEX\tPATH\tBYTES", rows)
	printReplicas(a, v)
	printFindings(a, v)
}

func printReplicas(a *app, v showView) {
	rows := make([]string, len(v.Replicas))
	for i, r := range v.Replicas {
		avail := string(r.Availability)
		if r.AvailabilityCause != "" {
			avail += " (" + string(r.AvailabilityCause) + ")"
		}
		if r.Removing {
			avail += ", being removed"
		}
		node := r.Node
		if node == "" {
			node = "(unclaimed)"
		}
		if node == v.Node {
			node += " (this node)"
		}
		rows[i] = fmt.Sprintf("%s\t%s\t%d/%d\t%s\t%s\t%s", node, avail, r.PiecesComplete, v.PieceCount,
			human.Bytes(r.Uploaded), orDash(r.LastScrub), r.DataDir)
	}
	a.printf("replicas:\n")
	_ = table(a.stdout, "NODE\tAVAILABILITY\tCOMPLETE\tUPLOADED\tLAST SCRUB\tDATA DIR", rows)
}
