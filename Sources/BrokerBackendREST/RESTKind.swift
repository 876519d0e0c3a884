// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// The `rest` backend kind: any REST API, declared in YAML or imported from OpenAPI, through libcurl.
public enum REST {
    /// Registered in `BuiltinBackends.swift`.
    public static let kind = BackendKind(name: "rest", summary: "REST API through libcurl: declared or OpenAPI-imported operations") { setup in
        let configuration = try RESTConfiguration(setup.settings)
        return RESTBackend(name: setup.name, configuration: configuration, logger: setup.logger, metrics: setup.metrics)
    }
}
