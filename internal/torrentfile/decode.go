package torrentfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// Decode turns raw .torrent bytes (a file, or the metainfo the catalog
// stores) into the library's types, without Parse's validation: the one
// decoder for metainfo read back from the catalog (the importer's engine
// check, the scrubber's targets). Fuzzing has not found a panic in the
// decoder, but some library helpers do panic on bad values
// (PiecesRootAsByteArray), so a panic here is turned into an error rather
// than taking down the daemon or the CLI on an imported file.
func Decode(raw []byte) (mi *metainfo.MetaInfo, info metainfo.Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("torrent file: malformed bencode: %v", oneLine(fmt.Sprint(r)))
		}
	}()
	if len(raw) == 0 {
		return nil, info, errors.New("torrent file: empty input")
	}
	mi, err = metainfo.Load(bytes.NewReader(raw))
	if err != nil {
		return nil, info, fmt.Errorf("torrent file: malformed bencode: %s", oneLine(err.Error()))
	}
	if len(mi.InfoBytes) == 0 {
		return nil, info, errors.New("torrent file: no info dictionary")
	}
	if mi.InfoBytes[0] != 'd' {
		return nil, info, errors.New("torrent file: info is not a dictionary")
	}
	if err := checkDupKeys(mi.InfoBytes); err != nil {
		return nil, info, fmt.Errorf("torrent file: %w", err)
	}
	if err := bencode.Unmarshal(mi.InfoBytes, &info); err != nil {
		return nil, info, fmt.Errorf("torrent file: invalid info dictionary: %s", oneLine(err.Error()))
	}
	return mi, info, nil
}

// infoKeys returns the keys present in the info dictionary, so that a missing
// field is told apart from a zero value.
func infoKeys(infoBytes []byte) (map[string]bool, error) {
	var m map[string]bencode.Bytes
	if err := bencode.Unmarshal(infoBytes, &m); err != nil {
		return nil, fmt.Errorf("invalid info dictionary: %s", oneLine(err.Error()))
	}
	keys := make(map[string]bool, len(m))
	for k := range m {
		keys[k] = true
	}
	return keys, nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", "; ")
}
