package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"

	"github.com/archivd/archivd/internal/catalog"
)

// routes builds the server's own mux.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.HandleFunc("GET /healthz/detail", s.handleHealthDetail)
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("GET /api/v1/collections", s.handleCollections)
	mux.HandleFunc("GET /api/v1/torrents", s.handleTorrents)
	mux.HandleFunc("GET /api/v1/torrents/{infohash}", s.handleTorrent)
	mux.HandleFunc("GET /api/v1/runs", s.handleRuns)
	mux.HandleFunc("GET /api/v1/runs/{id}", s.handleRun)
	mux.HandleFunc("GET /api/v1/findings", s.handleFindings)
	mux.HandleFunc("GET /api/v1/throughput", s.handleThroughput)
	mux.HandleFunc("GET /{$}", s.handleStatus)
	mux.HandleFunc("GET /torrents/{ref}", s.handleTorrentPage)
	if s.o.DebugPprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return s.withAccessLog(s.withAuth(mux))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fail answers an error as JSON: 404 for unknown rows, else 500 (logged).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, catalog.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	s.o.Logger.Warn().Err(err).Str("path", r.URL.Path).Msg("http: request failed")
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
}

func badRequest(w http.ResponseWriter, format string, a ...any) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf(format, a...)})
}

// limitParam reads ?limit= (1..1000), def when absent.
func limitParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, fmt.Errorf("limit %q: want a number from 1 to 1000", v)
	}
	return n, nil
}

func (s *Server) handleCollections(w http.ResponseWriter, r *http.Request) {
	cs, err := s.o.DB.Collections(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cs)
}

// torrentJSON adds the infohash, which catalog.Torrent keeps as bytes.
type torrentJSON struct {
	catalog.Torrent
	InfoHash string `json:"infohash"`
	// Engine: what a running daemon's engine does with it right now;
	// absent when no running daemon has it.
	Engine *catalog.TorrentEngineState `json:"engine,omitempty"`
}

func (s *Server) handleTorrents(w http.ResponseWriter, r *http.Request) {
	ts, err := s.o.DB.Torrents(r.Context(), catalog.TorrentFilter{Collection: r.URL.Query().Get("collection")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	engine, err := s.o.DB.EngineStates(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]torrentJSON, len(ts))
	for i, t := range ts {
		out[i] = torrentJSON{Torrent: t, InfoHash: t.HexHash()}
		if st, ok := engine[t.ID]; ok {
			out[i].Engine = &st
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// torrentDetail is one torrent with its files and piece counts.
type torrentDetail struct {
	torrentJSON
	Files          []catalog.File `json:"files"`
	PiecesKnown    int            `json:"pieces_known"`
	PiecesComplete int            `json:"pieces_complete"`
}

func (s *Server) handleTorrent(w http.ResponseWriter, r *http.Request) {
	t, err := s.o.DB.TorrentByRef(r.Context(), r.PathValue("infohash"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := torrentDetail{torrentJSON: torrentJSON{Torrent: t, InfoHash: t.HexHash()}}
	engine, err := s.o.DB.EngineStates(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if st, ok := engine[t.ID]; ok {
		d.Engine = &st
	}
	if d.Files, err = s.o.DB.Files(r.Context(), t.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := s.o.DB.LoadPieces(r.Context(), t.ID, t.PieceCount)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.PiecesKnown = ps.Known.Count(ps.N)
	for i := 0; i < ps.N; i++ {
		if ps.Known.Get(i) && ps.Complete.Get(i) {
			d.PiecesComplete++
		}
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) {
	n, err := limitParam(r, 20)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	runs, err := s.o.DB.VerifyRuns(r.Context(), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, runs)
}

// runDetail is a run with its findings.
type runDetail struct {
	catalog.VerifyRun
	FindingList []catalog.FindingView `json:"finding_list"`
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		badRequest(w, "run id %q: want a positive number", r.PathValue("id"))
		return
	}
	run, err := s.o.DB.VerifyRunByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fs, err := s.o.DB.FindingViews(r.Context(), catalog.FindingFilterView{RunID: id, Limit: 1000})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, runDetail{VerifyRun: run, FindingList: fs})
}

func (s *Server) handleFindings(w http.ResponseWriter, r *http.Request) {
	n, err := limitParam(r, 100)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	state := r.URL.Query().Get("state")
	if state != "" && !slices.Contains(catalog.FindingStates, state) {
		badRequest(w, "state %q: want one of %v", state, catalog.FindingStates)
		return
	}
	fs, err := s.o.DB.FindingViews(r.Context(), catalog.FindingFilterView{State: state, Limit: n})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fs)
}
