// testldap is a small read-only LDAP directory for the single sign-on tests: users with
// passwords and e-mail addresses, and groups listing their members. Dex's LDAP connector signs
// users in against it and reads their groups from it, which is how Dex gives static users
// groups.
//
//	testldap -listen 127.0.0.1:PORT -config users.json
//
// users.json: {"base": "dc=example,dc=org",
//
//	"users": {"alice": {"password": "...", "email": "...", "groups": ["team-a"]}}}
//
// Users are uid=<name>,ou=People,<base> (objectClass person); groups are
// cn=<group>,ou=Groups,<base> (objectClass groupOfNames, member = the users' DNs). Anonymous
// binds may search; a user's bind needs their password. Prints "Listening on ADDR" when ready.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"

	ldap "github.com/lor00x/goldap/message"
	server "github.com/vjeantet/ldapserver"
)

type user struct {
	Password string   `json:"password"`
	Email    string   `json:"email"`
	Groups   []string `json:"groups"`
}

type config struct {
	Base  string          `json:"base"`
	Users map[string]user `json:"users"`
}

type entry struct {
	dn    string
	attrs map[string][]string // attribute names in lower case
}

type directory struct {
	entries   []entry
	passwords map[string]string // lower-case DN → password
}

func newDirectory(c config) *directory {
	d := &directory{passwords: map[string]string{}}
	members := map[string][]string{}
	names := make([]string, 0, len(c.Users))
	for name := range c.Users {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		u := c.Users[name]
		dn := fmt.Sprintf("uid=%s,ou=People,%s", name, c.Base)
		d.entries = append(d.entries, entry{dn: dn, attrs: map[string][]string{
			"objectclass": {"person", "inetOrgPerson"}, "uid": {name}, "cn": {name},
			"mail": {u.Email},
		}})
		d.passwords[strings.ToLower(dn)] = u.Password
		for _, g := range u.Groups {
			members[g] = append(members[g], dn)
		}
	}
	groups := make([]string, 0, len(members))
	for g := range members {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		d.entries = append(d.entries, entry{
			dn:    fmt.Sprintf("cn=%s,ou=Groups,%s", g, c.Base),
			attrs: map[string][]string{"objectclass": {"groupOfNames"}, "cn": {g}, "member": members[g]},
		})
	}
	return d
}

func (e entry) matches(f ldap.Filter) bool {
	switch f := f.(type) {
	case ldap.FilterAnd:
		for _, part := range f {
			if !e.matches(part) {
				return false
			}
		}
		return true
	case ldap.FilterOr:
		for _, part := range f {
			if e.matches(part) {
				return true
			}
		}
		return false
	case ldap.FilterNot:
		return !e.matches(f.Filter)
	case ldap.FilterPresent:
		return len(e.attrs[strings.ToLower(string(f))]) > 0
	case ldap.FilterEqualityMatch:
		want := string(f.AssertionValue())
		for _, v := range e.attrs[strings.ToLower(string(f.AttributeDesc()))] {
			if strings.EqualFold(v, want) {
				return true
			}
		}
		return false
	}
	return false // substring, ordering and extensible matches are never asked for
}

func (d *directory) bind(w server.ResponseWriter, m *server.Message) {
	r := m.GetBindRequest()
	name := strings.ToLower(string(r.Name()))
	password := string(r.AuthenticationSimple())
	code := server.LDAPResultInvalidCredentials
	if name == "" && password == "" {
		code = server.LDAPResultSuccess // anonymous: may search
	} else if want, ok := d.passwords[name]; ok && password != "" && password == want {
		code = server.LDAPResultSuccess
	}
	w.Write(server.NewBindResponse(code))
}

func (d *directory) search(w server.ResponseWriter, m *server.Message) {
	r := m.GetSearchRequest()
	base := strings.ToLower(string(r.BaseObject()))
	for _, e := range d.entries {
		dn := strings.ToLower(e.dn)
		if base != "" && dn != base && !strings.HasSuffix(dn, ","+base) {
			continue
		}
		if !e.matches(r.Filter()) {
			continue
		}
		out := server.NewSearchResultEntry(e.dn)
		for name, values := range e.attrs {
			vs := make([]ldap.AttributeValue, len(values))
			for i, v := range values {
				vs[i] = ldap.AttributeValue(v)
			}
			out.AddAttribute(ldap.AttributeDescription(name), vs...)
		}
		w.Write(out)
	}
	w.Write(server.NewSearchResultDoneResponse(server.LDAPResultSuccess))
}

func main() {
	listen := flag.String("listen", "127.0.0.1:10389", "address to listen on")
	path := flag.String("config", "", "users and groups (JSON)")
	flag.Parse()
	raw, err := os.ReadFile(*path)
	if err != nil {
		log.Fatal(err)
	}
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		log.Fatalf("%s: %v", *path, err)
	}
	d := newDirectory(c)
	routes := server.NewRouteMux()
	routes.Bind(d.bind)
	routes.Search(d.search)
	srv := server.NewServer()
	srv.Handle(routes)
	// The server prints "Listening on ADDR" once it accepts connections.
	server.Logger = log.New(os.Stdout, "", 0)
	log.Fatal(srv.ListenAndServe(*listen))
}
