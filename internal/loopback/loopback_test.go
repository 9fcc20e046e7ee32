package loopback

import "testing"

func TestHostIgnoresCaseOfLocalhost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "LOCALHOST": true, "127.0.0.1": true, "127.4.5.6": true, "::1": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.1": false, "example.org": false,
	} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v, want %v", host, got, want)
		}
	}
	if _, err := Listen("127.0.0.1"); err == nil {
		t.Error("Listen without a port: nil error")
	}
}
