package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/component-base/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

// apiserverArgs are the kube-apiserver command-line flags. Differences from a kubeadm
// control plane, all because no controller-manager, scheduler or kubelet runs:
//   - ServiceAccount admission is disabled: it rejects pods until the namespace's "default"
//     ServiceAccount exists, and only the controller-manager creates that.
//   - --endpoint-reconciler-type=none: the "kubernetes" Service gets no Endpoints, because
//     Endpoints may not point at the loopback advertise address.
func apiserverArgs(o options, dir string, f *credentialFiles, etcdURL string) []string {
	v := "0"
	if o.verbose {
		v = "2"
	}
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(o.port),
		"--cert-dir=" + filepath.Join(dir, "pki"),
		"--tls-cert-file=" + f.servingCert,
		"--tls-private-key-file=" + f.servingKey,
		"--client-ca-file=" + f.caCert,
		"--token-auth-file=" + f.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + f.saPub,
		"--service-account-signing-key-file=" + f.saKey,
		"--service-cluster-ip-range=10.233.0.0/18", // KubeSphere's default (kubekey), as kubesim serves
		"--service-node-port-range=30000-32767",
		"--allow-privileged=true",
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=" + v,
	}
}

func runAPIServer(o options, dir string, f *credentialFiles, etcdURL string) error {
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(apiserverArgs(o, dir, f, etcdURL))
	cmd.SetOut(os.Stderr)
	cmd.SetErr(os.Stderr)
	cmd.SilenceErrors = true
	return cmd.Execute()
}

// waitReady polls /readyz with the admin token until it answers 200 "ok".
func waitReady(ctx context.Context, server string, f *credentialFiles) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(f.caPEM)
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true},
	}
	last := "no answer"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+f.adminToken)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ok" {
				return nil
			}
			last = fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%v (last answer: %s)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func writeKubeconfig(path, server string, caPEM []byte, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kube-testenv"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["kube-testenv"] = &clientcmdapi.Context{Cluster: "kube-testenv", AuthInfo: user}
	cfg.CurrentContext = "kube-testenv"
	tmp := path + ".tmp"
	if err := clientcmd.WriteToFile(*cfg, tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func versionString() string { return version.Get().GitVersion }
