package realhost

import (
	"context"
	"encoding/xml"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"fmt"
	"github.com/falcocw/falcocw/internal/fakeaws"
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
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("moto's log:\n%s", tail(log.String(), 6000))
		}
	})
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

// S3Lines reads every object in a moto bucket with SigV4-signed S3 REST
// calls (the test credentials) and returns their lines: what a Firehose
// stream writing to S3 delivered.
func S3Lines(t testing.TB, url, bucket string) []string {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: fakeaws.AccessKey, SecretAccessKey: fakeaws.SecretKey, SessionToken: fakeaws.SessionToken}
	get := func(u string) []byte {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptySHA256, "s3", "eu-west-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s %s", u, resp.Status, b)
		}
		return b
	}
	var list struct{ Contents []struct{ Key string } }
	if err := xml.Unmarshal(get(url+"/"+bucket+"?max-keys=1000"), &list); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, o := range list.Contents {
		for _, l := range strings.Split(string(get(url+"/"+bucket+"/"+o.Key)), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines
}
