// HttpClient: a keep-alive libcurl client for the tracking API's tests and benchmarks (the C++ side of the wire).
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace trainyard::test {

struct HttpResponse {
    long status = 0; // 0 when no reply came
    QByteArray body;
    QString transportError;
    QJsonObject json() const;
};

class HttpClient {
public:
    // baseUri: http://127.0.0.1:PORT; token: sent as "Authorization: Bearer <token>" unless empty.
    HttpClient(QString baseUri, QByteArray token);
    ~HttpClient();
    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;

    HttpResponse post(const QString &endpoint, const QByteArray &jsonBody);
    HttpResponse get(const QString &endpoint, const QString &query);
    void setToken(QByteArray token) { m_token = std::move(token); }

private:
    HttpResponse perform(const QByteArray &url, const QByteArray *postBody);
    QString m_baseUri;
    QByteArray m_token;
    void *m_curl = nullptr; // CURL*, reused so the connection stays open
};

} // namespace trainyard::test
