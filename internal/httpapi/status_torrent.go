package httpapi

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

//go:embed status_torrent.html
var torrentHTML string

var torrentTmpl = template.Must(template.Must(statusTmpl.Clone()).New("torrent").Parse(torrentHTML))

// torrentPage is the status page's view of one torrent.
type torrentPage struct {
	Version string
	Now     time.Time
	T       catalog.Torrent
	Row     listRow
	Files   []catalog.File
	Pieces  pieceMap
	// Findings are the torrent's findings, open ones first.
	Findings []catalog.VerifyFinding
	Peers    []catalog.Peer
	Live     *TorrentLive
	Events   []catalog.Event
	Errs     []string
}

// pieceMap is the torrent's pieces in at most pieceCells cells, each
// coloured by the worst state of its pieces.
type pieceMap struct {
	Complete, NotComplete, Unknown, Bad int
	Cells                               []string // css class per cell
	PerCell                             int
}

const pieceCells = 256

func newPieceMap(ps catalog.PieceStates, bad map[int]bool) pieceMap {
	m := pieceMap{PerCell: max(1, (ps.N+pieceCells-1)/pieceCells)}
	for first := 0; first < ps.N; first += m.PerCell {
		cell := "pc"
		for p := first; p < min(ps.N, first+m.PerCell); p++ {
			switch {
			case bad[p]:
				cell = "pb"
			case ps.State(p) == catalog.PieceUnknown && cell != "pb":
				cell = "pu"
			case ps.State(p) == catalog.PieceNotComplete && cell == "pc":
				cell = "pn"
			}
		}
		m.Cells = append(m.Cells, cell)
	}
	for p := 0; p < ps.N; p++ {
		switch {
		case bad[p]:
			m.Bad++
		case ps.State(p) == catalog.PieceComplete:
			m.Complete++
		case ps.State(p) == catalog.PieceNotComplete:
			m.NotComplete++
		default:
			m.Unknown++
		}
	}
	return m
}

func (s *Server) handleTorrentPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), statusTimeout)
	defer cancel()
	t, err := s.o.DB.TorrentByRef(ctx, r.PathValue("ref"))
	if errors.Is(err, catalog.ErrNotFound) {
		http.Error(w, fmt.Sprintf("torrent %q not found", r.PathValue("ref")), http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.torrentData(ctx, t)
	var buf bytes.Buffer
	if err := torrentTmpl.ExecuteTemplate(&buf, "torrent", p); err != nil {
		s.fail(w, r, fmt.Errorf("render torrent page: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// torrentData gathers the page; a failing part shows its error.
func (s *Server) torrentData(ctx context.Context, t catalog.Torrent) torrentPage {
	p := torrentPage{Version: s.o.Version, Now: time.Now(), T: t}
	note := func(err error) {
		if err != nil {
			p.Errs = append(p.Errs, err.Error())
		}
	}
	rows, err := s.o.DB.TorrentRows(ctx)
	note(err)
	for _, row := range rows {
		if row.ID == t.ID {
			p.Row = toRow(row)
		}
	}
	p.Files, err = s.o.DB.Files(ctx, t.ID)
	note(err)
	p.Findings, err = s.o.DB.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: t.ID, Limit: 200})
	note(err)
	bad := map[int]bool{}
	for _, f := range p.Findings {
		if f.State != catalog.FindingRepaired {
			bad[f.Piece] = true
		}
	}
	ps, err := s.o.DB.LoadPieces(ctx, t.ID, t.PieceCount)
	note(err)
	p.Pieces = newPieceMap(ps, bad)
	peers, err := s.o.DB.PeersOf(ctx, []int64{t.ID}, 50)
	note(err)
	p.Peers = peers[t.ID]
	p.Events, err = s.o.DB.TorrentEvents(ctx, t.ID, 50)
	note(err)
	if s.o.Live != nil {
		for _, l := range s.o.Live.PerTorrent() {
			if l.InfoHash == t.HexHash() {
				p.Live = &l
			}
		}
	}
	return p
}
