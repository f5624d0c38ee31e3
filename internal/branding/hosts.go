package branding

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadImageHost is an entry of FOYER_IMAGE_HOSTS that is not a host.
var ErrBadImageHost = errors.New("bad image host")

// CheckImageHosts checks FOYER_IMAGE_HOSTS: each a host name, with a port
// if it is not 443, such as cdn.shop.example or img.example:8443, in lower
// case, no scheme, path or wildcard. Each goes into the page's
// Content-Security-Policy as https://<host>, so a character that could end
// the directive (a space, a ';') is refused, as is a '*' that would let in
// any host.
func CheckImageHosts(hosts []string) error {
	for _, h := range hosts {
		name, port, hasPort := strings.Cut(h, ":")
		ok := name != "" && !strings.HasPrefix(name, ".") && !strings.HasSuffix(name, ".") && !strings.Contains(name, "..")
		for _, r := range name {
			ok = ok && ('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '-')
		}
		if hasPort {
			ok = ok && port != "" && len(port) <= 5
			for _, r := range port {
				ok = ok && '0' <= r && r <= '9'
			}
		}
		if !ok {
			return fmt.Errorf("%w: %q is not a host: list host names in lower case, with a port if not 443, "+
				"such as cdn.shop.example,img.example:8443 (no https://, path or *)", ErrBadImageHost, h)
		}
	}
	return nil
}
