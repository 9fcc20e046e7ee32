package seeder

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Status is the seeder's overall state, for health checks and metrics.
type Status struct {
	// DBOK: the catalog is reachable (piece states commit and the change
	// listener is connected). When false the seeder keeps seeding and
	// holds piece states in memory; Degraded says why.
	DBOK     bool   `json:"db_ok"`
	Degraded string `json:"degraded,omitempty"`
	// Torrents in the engine, and of those: complete, still downloading,
	// and magnets whose metadata is being fetched.
	Torrents    int `json:"torrents"`
	Seeding     int `json:"seeding"`
	Downloading int `json:"downloading"`
	Fetching    int `json:"fetching_metadata"`
	// Unavailable: active torrents held back because their data is missing.
	Unavailable int `json:"unavailable"`
	Peers       int `json:"peers"`
	// PendingPieces: piece states waiting to be committed to the catalog.
	PendingPieces int `json:"pending_pieces"`
	// Piece data read and written by the engine since start.
	DiskReadBytes    int64 `json:"disk_read_bytes"`
	DiskWrittenBytes int64 `json:"disk_written_bytes"`
	// Pieces found good, and bytes hashed, by archivd's scrubber when
	// adopting data found on disk (not by the engine: its reads are in
	// DiskReadBytes).
	AdoptedPieces int64 `json:"adopted_pieces"`
	AdoptedBytes  int64 `json:"adopted_bytes"`
	// Data bytes sent and received since start, and current rates.
	UploadedBytes   int64   `json:"uploaded_bytes"`
	DownloadedBytes int64   `json:"downloaded_bytes"`
	UploadRate      float64 `json:"upload_rate"`
	DownloadRate    float64 `json:"download_rate"`
	// LastStopClean: the previous run of this node stopped cleanly.
	LastStopClean bool `json:"last_stop_clean"`
}

// TorrentStatus is the live state of one torrent in the engine.
type TorrentStatus struct {
	ID              int64   `json:"id"`
	InfoHash        string  `json:"infohash"`
	Name            string  `json:"name"`
	State           string  `json:"state"` // seeding, checking, downloading, fetching_metadata
	Pieces          int     `json:"pieces"`
	PiecesComplete  int     `json:"pieces_complete"`
	BytesCompleted  int64   `json:"bytes_completed"`
	Length          int64   `json:"length"`
	Peers           int     `json:"peers"`
	Seeders         int     `json:"seeders"`
	UploadedBytes   int64   `json:"uploaded_bytes"` // since it was added to the engine
	DownloadedBytes int64   `json:"downloaded_bytes"`
	UploadRate      float64 `json:"upload_rate"` // bytes/s
	DownloadRate    float64 `json:"download_rate"`
}

// Status reports the seeder's state. It walks all torrents: call it at
// human or scrape rates, not in a tight loop.
func (s *Seeder) Status() Status {
	h := s.store.Health()
	listening, listenErr := s.changes.Listening()
	st := Status{DBOK: h.DBOK && listening, PendingPieces: h.Pending,
		DiskReadBytes: s.store.BytesRead(), DiskWrittenBytes: s.store.BytesWritten(),
		AdoptedPieces: s.adoptedPieces.Load(), AdoptedBytes: s.adoptedBytes.Load()}
	var why []string
	if !h.DBOK {
		why = append(why, fmt.Sprintf("piece states not committing (%d pending): %s", h.Pending, h.LastError))
	}
	if !listening {
		why = append(why, fmt.Sprintf("catalog change listener down: %v", listenErr))
	}
	st.Degraded = strings.Join(why, "; ")
	for _, e := range s.entries() {
		ts := s.torrentStatus(e)
		st.Torrents++
		switch ts.State {
		case "seeding":
			st.Seeding++
		case "downloading":
			st.Downloading++
		default:
			st.Fetching++
		}
		st.Peers += ts.Peers
		st.UploadedBytes += ts.UploadedBytes
		st.DownloadedBytes += ts.DownloadedBytes
		st.UploadRate += ts.UploadRate
		st.DownloadRate += ts.DownloadRate
	}
	s.mu.Lock()
	st.Unavailable, st.LastStopClean = s.unavailable, s.lastClean
	s.mu.Unlock()
	return st
}

// TorrentStatus reports one torrent by infohash; false if it is not in
// the engine (paused, removed, unavailable or unknown).
func (s *Seeder) TorrentStatus(infohash [20]byte) (TorrentStatus, bool) {
	for _, e := range s.entries() {
		if e.row.InfoHash == infohash {
			return s.torrentStatus(e), true
		}
	}
	return TorrentStatus{}, false
}

func (s *Seeder) torrentStatus(e *entry) TorrentStatus {
	st := e.t.Stats()
	ts := TorrentStatus{ID: e.row.ID, InfoHash: e.row.HexHash(), Name: e.row.Name,
		Peers: st.ActivePeers, Seeders: st.ConnectedSeeders, PiecesComplete: st.PiecesComplete,
		UploadedBytes: st.BytesWrittenData.Int64(), DownloadedBytes: st.BytesReadData.Int64()}
	s.mu.Lock()
	ts.UploadRate, ts.DownloadRate = e.upRate, e.downRate
	s.mu.Unlock()
	ts.State = string(engineState(e))
	if e.t.Info() != nil && !e.fetching {
		ts.Name = e.t.Name()
		ts.Pieces = e.t.NumPieces()
		ts.Length = e.t.Length()
		ts.BytesCompleted = e.t.BytesCompleted()
	}
	return ts
}

// Torrents reports every torrent in the engine, ordered by catalog id.
func (s *Seeder) Torrents() []TorrentStatus {
	es := s.entries()
	out := make([]TorrentStatus, 0, len(es))
	for _, e := range es {
		out = append(out, s.torrentStatus(e))
	}
	slices.SortFunc(out, func(a, b TorrentStatus) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
