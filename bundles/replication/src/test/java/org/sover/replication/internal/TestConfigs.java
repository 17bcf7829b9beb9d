package org.sover.replication.internal;

import java.lang.reflect.Proxy;
import java.util.Map;

/** Component property types (annotation interfaces) filled with their defaults and some overrides, as DS does. */
final class TestConfigs {
    private TestConfigs() {
    }

    static <T> T of(Class<T> type, Map<String, Object> overrides) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (overrides.containsKey(method.getName())) {
                return overrides.get(method.getName());
            }
            Object value = method.getDefaultValue();
            if (value == null) {
                throw new UnsupportedOperationException(method.getName());
            }
            return value;
        }));
    }
}
