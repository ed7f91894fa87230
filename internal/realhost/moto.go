package realhost

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/flbhost"
)

// StartMoto starts a moto server of the test's own, on a free port, from
// the moto that scripts/moto.sh installed into .cache/moto, and returns its
// URL. Its own server, so that no other package's tests reset it under
// this one. It skips the test with a NOTE when moto is not installed,
// unless FALCOCW_REQUIRE_MOTO is set (as CI sets it).
func StartMoto(t testing.TB) string {
	t.Helper()
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	pkgs := filepath.Join(root, ".cache", "moto", "root", "usr", "lib", "python3", "dist-packages")
	if _, err := os.Stat(filepath.Join(pkgs, "moto", "__init__.py")); err != nil {
		if os.Getenv("FALCOCW_REQUIRE_MOTO") != "" {
			t.Fatalf("moto is required but not installed in %s: run scripts/moto.sh install", pkgs)
		}
		t.Skipf("NOTE: SKIPPED: moto is not installed (scripts/moto.sh install)")
	}
	port := FreePort(t)
	cmd := exec.Command("/usr/bin/python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pkgs)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if !Until(30*time.Second, func() bool {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}) {
		t.Fatalf("moto did not answer at %s:\n%s", url, log.String())
	}
	return url
}
