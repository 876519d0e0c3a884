// SPDX-License-Identifier: Apache-2.0

import CLibCurl

/// The scheme, host and port of a request URL, as libcurl's own URL parser reads them (so a pin made for this host
/// and port is the one libcurl will look up).
struct CurlTarget: Sendable {
    /// The scheme, lowercased.
    var scheme: String
    /// The host as libcurl sees it (IPv6 literals in brackets); `nil` for URLs without one.
    var host: String?
    /// The explicit or default port; `nil` when the scheme has none.
    var port: Int?

    /// Parses `url` with `curl_url`; `nil` when libcurl cannot read a scheme from it.
    static func parse(_ url: String) -> CurlTarget? {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        // NON_SUPPORT_SCHEME lets "ftp:" or "gopher:" parse, so they are refused as protocols, not as bad URLs.
        guard curl_url_set(handle, CURLUPART_URL, url, UInt32(CURLU_NON_SUPPORT_SCHEME)) == CURLUE_OK,
            let scheme = part(handle, CURLUPART_SCHEME, flags: 0)
        else { return nil }
        let port = part(handle, CURLUPART_PORT, flags: UInt32(CURLU_DEFAULT_PORT)).flatMap { Int($0) }
        return CurlTarget(scheme: scheme.lowercased(), host: part(handle, CURLUPART_HOST, flags: 0), port: port)
    }

    private static func part(_ handle: OpaquePointer, _ which: CURLUPart, flags: UInt32) -> String? {
        var pointer: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, which, &pointer, flags) == CURLUE_OK, let pointer else { return nil }
        defer { curl_free(pointer) }
        return String(cString: pointer)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var curlTrimmed: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isBlank($0) }), let end = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
