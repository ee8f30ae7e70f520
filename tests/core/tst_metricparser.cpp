// The metric protocol parsers: JSON lines and key=value output lines.
#include "ingest/metricparser.h"

#include <QTest>

#include <cmath>

using namespace trainyard;

namespace {
QString describe(const ParsedMetricLine &line)
{
    QStringList parts{QStringLiteral("step=%1").arg(line.step)};
    for (const MetricValue &value : line.values)
        parts << QStringLiteral("%1=%2")
                     .arg(QString::fromUtf8(value.key.data(), qsizetype(value.key.size())))
                     .arg(value.value);
    if (line.hasTimestamp)
        parts << QStringLiteral("ts=%1").arg(line.timestampS, 0, 'f', 3);
    return parts.join(QLatin1Char(' '));
}
} // namespace

class TestMetricParser : public QObject {
    Q_OBJECT
private slots:
    void parsesJsonLines_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("expected"); // empty: malformed
        QTest::addColumn<QString>("error");
        QTest::newRow("protocol example")
            << QByteArray(R"({"step": 12, "loss": 0.31, "lr": 3e-4})") << "step=12 loss=0.31 lr=0.0003"
            << "";
        QTest::newRow("with ts") << QByteArray(R"({"ts": 1764000000.25, "step": 1, "loss": 2})")
                                 << "step=1 loss=2 ts=1764000000.250"
                                 << "";
        QTest::newRow("non-finite strings")
            << QByteArray(R"({"step": 3, "loss": "nan", "g": "-inf", "h": "inf"})") << "step=3 loss=nan g=-inf h=inf"
            << "";
        QTest::newRow("text and nested ignored")
            << QByteArray(R"({"step": 4, "tag": "x", "cfg": {"a": 1}, "l": [1, 2], "ok": true, "acc": 0.5})")
            << "step=4 acc=0.5"
            << "";
        QTest::newRow("escaped key") << QByteArray(R"({"step": 5, "val\/loss": 1.5})") << "step=5 val/loss=1.5"
                                     << "";
        QTest::newRow("no step") << QByteArray(R"({"loss": 0.9})") << ""
                                 << "no integer \"step\"";
        QTest::newRow("float step") << QByteArray(R"({"step": 1.5, "loss": 0.9})") << ""
                                    << "\"step\" is not an integer";
        QTest::newRow("not an object") << QByteArray(R"([1, 2, 3])") << ""
                                       << "not a JSON object";
        QTest::newRow("cut short") << QByteArray(R"({"step": 4, "loss": 0.7,)") << ""
                                   << "";
        QTest::newRow("text") << QByteArray("loss went up") << ""
                              << "";
        QTest::newRow("trailing garbage") << QByteArray(R"({"step": 1, "loss": 1} extra)") << ""
                                          << "";
    }
    void parsesJsonLines()
    {
        QFETCH(QByteArray, line);
        QFETCH(QString, expected);
        QFETCH(QString, error);
        JsonMetricParser parser;
        ParsedMetricLine parsed;
        std::string message;
        // Exercise both the padded path (capacity to spare) and the copying path (none).
        QByteArray padded = line + QByteArray(kJsonPadding, '\0');
        for (std::size_t capacity : {std::size_t(padded.size()), std::size_t(line.size())}) {
            const bool ok =
                parser.parse(std::string_view(padded.constData(), std::size_t(line.size())), capacity, parsed, message);
            QCOMPARE(ok, !expected.isEmpty());
            if (ok)
                QCOMPARE(describe(parsed), expected);
            else if (!error.isEmpty())
                QCOMPARE(QString::fromStdString(message), error);
            else
                QVERIFY(!message.empty());
        }
    }

    // A number out of a double's range drops that member only: the line's other members are kept and the dropped one
    // is described (the ingester counts it as malformed, with file:line); an integer past 64 bits is read as a double.
    void keepsTheGoodMembersOfALineWithANumberOutOfRange_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<QString>("rejected");
        QTest::newRow("1e400 beside 1e308")
            << QByteArray(R"({"step": 14, "big": 1e308, "huge": 1e400})") << "step=14 big=1e+308"
            << "\"huge\": 1e400 is out of range";
        QTest::newRow("negative, first") << QByteArray(R"({"tiny": -1e999, "step": 3, "loss": 0.5, "ts": 1764000000})")
                                         << "step=3 loss=0.5 ts=1764000000.000"
                                         << "\"tiny\": -1e999 is out of range";
        QTest::newRow("two out of range")
            << QByteArray(R"({"step": 1, "a": 1e400, "b": 2, "c": 2e400})") << "step=1 b=2"
            << "\"a\": 1e400 is out of range; \"c\": 2e400 is out of range";
        QTest::newRow("integer past 64 bits")
            << QByteArray(R"({"step": 2, "n": 123456789012345678901234567890, "loss": 0.25})")
            << "step=2 n=1.23457e+29 loss=0.25"
            << "";
    }
    void keepsTheGoodMembersOfALineWithANumberOutOfRange()
    {
        QFETCH(QByteArray, line);
        QFETCH(QString, expected);
        QFETCH(QString, rejected);
        JsonMetricParser parser;
        ParsedMetricLine parsed;
        std::string message;
        QByteArray padded = line + QByteArray(kJsonPadding, '\0');
        for (std::size_t capacity : {std::size_t(padded.size()), std::size_t(line.size())}) {
            QVERIFY2(
                parser.parse(std::string_view(padded.constData(), std::size_t(line.size())), capacity, parsed, message),
                message.c_str());
            QCOMPARE(describe(parsed), expected);
            QCOMPARE(QString::fromStdString(parsed.rejected), rejected);
        }
        // A step out of range is still a malformed line.
        const QByteArray badStep = R"({"step": 1e400, "loss": 1})";
        QVERIFY(!parser.parse(std::string_view(badStep.constData(), std::size_t(badStep.size())),
                              std::size_t(badStep.size()), parsed, message));
        QCOMPARE(QString::fromStdString(message), QStringLiteral("\"step\" is not an integer"));
    }

    void parsesStdoutLines_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("expected"); // empty: not a metric line
        QTest::newRow("key=value") << QByteArray("step=10 loss=0.25 lr=1e-3") << "step=10 loss=0.25 lr=0.001";
        QTest::newRow("key: value") << QByteArray("iter: 7 | acc: 0.9 | took 12ms") << "step=7 acc=0.9";
        QTest::newRow("mixed, step later") << QByteArray("[train] loss = 1.5, global_step=3") << "step=3 loss=1.5";
        QTest::newRow("nan loss") << QByteArray("step=2 loss=nan") << "step=2 loss=nan";
        QTest::newRow("no step") << QByteArray("loss=0.5 lr=0.1") << "";
        QTest::newRow("step but no value") << QByteArray("step=5 done") << "";
        QTest::newRow("fractional step") << QByteArray("step=1.5 loss=2") << "";
        QTest::newRow("units are not values") << QByteArray("step=1 time=12ms loss=3") << "step=1 loss=3";
        QTest::newRow("prose") << QByteArray("Epoch 3 finished in 12 seconds") << "";
        // Found by fuzz_stdoutmetric: 2^63 (what 9223372036854775807 reads as) was converted to a step (undefined).
        // Found by fuzz_stdoutmetric: a line ending in "key=" read one byte past its end.
        QTest::newRow("nothing after the equals sign") << QByteArray("step=1 loss=") << "";
        QTest::newRow("step past 64 bits") << QByteArray("step=9223372036854775807 x=1") << "";
        QTest::newRow("largest exact step") << QByteArray("step=9007199254740992 x=1") << "step=9007199254740992 x=1";
    }
    void parsesStdoutLines()
    {
        QFETCH(QByteArray, line);
        QFETCH(QString, expected);
        ParsedMetricLine parsed;
        const bool ok = parseStdoutMetricLine(std::string_view(line.constData(), std::size_t(line.size())), parsed);
        QCOMPARE(ok, !expected.isEmpty());
        if (ok)
            QCOMPARE(describe(parsed), expected);
    }
};

QTEST_GUILESS_MAIN(TestMetricParser)
#include "tst_metricparser.moc"
