package main

import (
	"fmt"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

type etcdServer struct {
	e         *embed.Etcd
	ClientURL string
}

func (s *etcdServer) Close() { s.e.Close() }

// startEtcd starts a single-member etcd on 127.0.0.1 with its data in dataDir (kept across
// runs unless --clean) and waits until it serves.
func startEtcd(dataDir string, clientPort, peerPort int, verbose bool) (*etcdServer, error) {
	cfg := embed.NewConfig()
	cfg.Name = "kube-testenv"
	cfg.Dir = dataDir
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = fmt.Sprintf("%s=%s", cfg.Name, peer.String())
	cfg.InitialClusterToken = "kube-testenv"
	cfg.Logger = "zap"
	cfg.LogOutputs = []string{"stderr"}
	cfg.LogLevel = "error"
	if verbose {
		cfg.LogLevel = "info"
	}
	// A throw-away test store: skip fsync (much faster writes, no durability on power loss).
	cfg.UnsafeNoFsync = true
	cfg.EnableGRPCGateway = false

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("not ready after 60s")
	}
	return &etcdServer{e: e, ClientURL: client.String()}, nil
}
