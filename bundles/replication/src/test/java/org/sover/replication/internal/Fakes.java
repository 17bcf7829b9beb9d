package org.sover.replication.internal;

import java.lang.reflect.Proxy;

/**
 * Fakes of service interfaces for unit tests: every call goes to one answer by method name;
 * {@code toString}, {@code hashCode} and {@code equals} behave as an object's.
 */
final class Fakes {
    private Fakes() {
    }

    interface Answer {
        Object answer(String method, Object[] args) throws Exception;
    }

    static <T> T of(Class<T> type, Answer answer) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                (proxy, method, args) -> switch (method.getName()) {
                    case "toString" -> "fake " + type.getSimpleName();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> answer.answer(method.getName(), args);
                }));
    }
}
