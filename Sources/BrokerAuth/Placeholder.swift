// SPDX-License-Identifier: Apache-2.0
// Replaced by the BrokerAuth implementation.
import BrokerCore
