package torrentfile

import (
	"encoding/hex"
	"strings"
	"testing"
)

const testHex = "45f332b64efb479509e7237cbcb0563265cb741b"

func TestParseMagnetAccepts(t *testing.T) {
	t.Parallel()
	want, _ := hex.DecodeString(testHex)
	for _, uri := range []string{
		"magnet:?xt=urn:btih:" + testHex + "&dn=My+Data&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&tr=udp://127.0.0.1:6969&ws=http://127.0.0.1/ws/",
		"magnet:?xt=urn:btih:" + strings.ToUpper(testHex) + "&dn=My%20Data&tr=http://127.0.0.1:6969/announce&tr=udp://127.0.0.1:6969&ws=http://127.0.0.1/ws/",
		"magnet:?xt=urn:btih:IXZTFNSO7NDZKCPHEN6LZMCWGJS4W5A3&dn=My+Data&tr=http://127.0.0.1:6969/announce&tr=udp://127.0.0.1:6969&ws=http://127.0.0.1/ws/",
		"magnet:?xt=urn:btih:ixztfnso7ndzkcphen6lzmcwgjs4w5a3&xt=urn:btmh:1220abcd&dn=My+Data&tr=http://127.0.0.1:6969/announce&tr=udp://127.0.0.1:6969&ws=http://127.0.0.1/ws/",
	} {
		m, err := ParseMagnet(uri)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if string(m.InfoHash[:]) != string(want) || m.Name != "My Data" || m.Raw != uri {
			t.Errorf("%s: got %x %q", uri, m.InfoHash, m.Name)
		}
		if len(m.Trackers) != 2 || m.Trackers[0] != "http://127.0.0.1:6969/announce" || len(m.WebSeeds) != 1 {
			t.Errorf("%s: trackers %v webseeds %v", uri, m.Trackers, m.WebSeeds)
		}
	}
}

func TestParseMagnetRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ uri, want string }{
		{"http://example/?xt=urn:btih:" + testHex, `scheme is "http"`},
		{"magnet:?dn=x", "no xt=urn:btih: infohash"},
		{"magnet:?xt=urn:btmh:1220abcd", "no xt=urn:btih: infohash"},
		{"magnet:?xt=urn:btih:abc", `infohash "abc" has 3 characters, want 40 hex or 32 base32`},
		{"magnet:?xt=urn:btih:" + strings.Repeat("g", 40), "is not valid hex or base32"},
		{"magnet:?xt=urn:btih:" + strings.Repeat("1", 32), "is not valid hex or base32"},
		{"magnet:?xt=urn:btih:" + testHex + "&xt=urn:btih:" + strings.Repeat("0", 40), "two different xt=urn:btih: infohashes"},
		{"magnet:?xt=urn:btih:" + testHex + "&tr=nonsense", `tr "nonsense" is not an absolute URL`},
		{"magnet:?xt=urn:btih:" + testHex + "&ws=/relative", `ws "/relative" is not an absolute URL`},
		{"magnet:?xt=urn:btih:" + testHex + "&dn=%zz", "bad query"},
		{"%", "not a URI"},
	} {
		_, err := ParseMagnet(c.uri)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "magnet: ") || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("ParseMagnet(%q) = %v, want one-line error containing %q", c.uri, err, c.want)
		}
	}
}
