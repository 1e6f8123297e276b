"""Dates and datetimes: cases from dateparser's own test suite, and dsc's never-guess rules.

Ported cases come from scrapinghub/dateparser `tests/test_date_parser.py` (the parametrized
`TestDateParser` tests named in each block). Upstream detects the language; dsc reads only
declared languages, so each case names its language. Where dsc deliberately answers
differently — a two-digit year, a missing year, a weekday that contradicts the date, a zone
abbreviation — the case is in REJECTED_UPSTREAM_CASES with dsc's reason.
"""
import datetime as dt
import re

import pytest
from babel import Locale

from dsc.locale import OptionError, parse_date, parse_datetime

# test_dates_parsing / test_dates_parsing_with_normalization (RELATIVE_BASE 2012-11-13):
# (language, text, date) — every one has a day, a month name and a four-digit year.
DATEPARSER_DATES = [
    ("en", "[Sept] 04, 2014.", "2014-09-04"),
    ("en", "Tuesday Jul 22, 2014", "2014-07-22"),
    ("en", "the 1st day of March 2015", "2015-03-01"),
    ("en", "November 19, 2014 at noon", "2014-11-19"),
    ("en", "December 13, 2014 at midnight", "2014-12-13"),
    ("en", "Wed Aug 05 12:00:00 2015", "2015-08-05"),
    ("en", "Fri, 12 Dec 2014 10:55:50", "2014-12-12"),
    ("en", "20 Mar 2013 10h11", "2013-03-20"),
    ("en", "19 February 2013 year 09:10", "2013-02-19"),
    ("fr", "11 Mai 2014", "2014-05-11"),
    ("fr", "11 sept. 2014", "2014-09-11"),
    ("fr", "dimanche, 11 Mai 2014", "2014-05-11"),
    ("fr", "vendredi, décembre 5 2014.", "2014-12-05"),
    ("fr", "fév 15, 2013", "2013-02-15"),
    ("es", "Martes 21 de Octubre de 2014", "2014-10-21"),
    ("es", "Miércoles 20 de Noviembre de 2013", "2013-11-20"),
    ("es", "12 de junio del 2012", "2012-06-12"),
    ("es", "13 Ago, 2014", "2014-08-13"),
    ("es", "11 Marzo, 2014", "2014-03-11"),
    ("nl", "11 augustus 2014", "2014-08-11"),
    ("nl", "14 januari 2014", "2014-01-14"),
    ("it", "16 giu 2014", "2014-06-16"),
    ("it", "26 gennaio 2014", "2014-01-26"),
    ("pt", "13 Setembro, 2014", "2014-09-13"),
    ("ru", "20 ноября 2013", "2013-11-20"),
    ("ru", "09 августа 2012", "2012-08-09"),
    ("ru", "21 сентября 2021г., вторник", "2021-09-21"),
    ("tr", "11 Ağustos, 2014", "2014-08-11"),
    ("ro", "13 iunie 2013", "2013-06-13"),
    ("ro", "12-Iun-2013", "2013-06-12"),
    ("de", "21. Dezember 2013", "2013-12-21"),
    ("de", "1. Sept 2000", "2000-09-01"),
    ("de", "12-Mär-2014", "2014-03-12"),
    ("cs", "13 Srpen, 2014", "2014-08-13"),
    ("be", "Чацвер 06 жніўня 2015", "2015-08-06"),
    ("uk", "2015-кві-12", "2015-04-12"),
    ("ja", "2016年3月20日(日) 21時40分", "2016-03-20"),
    ("zh", "2016年 2月 5日", "2016-02-05"),
    ("bg", "25 ян 2016", "2016-01-25"),
    ("bn", "25শে মার্চ 1971", "1971-03-25"),
    ("bn", "8ই মে 2002", "2002-05-08"),
    ("hi", "१७ अक्टूबर २०१८", "2018-10-17"),
    ("hr", "06. travnja 2021.", "2021-04-06"),
    ("hr", "13. studenog 1989.", "1989-11-13"),
]

# The same tests, values with a time of day: (language, text, ISO datetime).
DATEPARSER_DATETIMES = [
    ("en", "Nov 25 2014 10:17 pm", "2014-11-25T22:17:00"),
    ("en", "April 9, 2013 at 6:11 a.m.", "2013-04-09T06:11:00"),
    ("en", "Aug. 9, 2012 at 2:57 p.m.", "2012-08-09T14:57:00"),
    ("en", "December 10, 2014, 11:02:21 pm", "2014-12-10T23:02:21"),
    ("en", "8:25 a.m. Dec. 12, 2014", "2014-12-12T08:25:00"),
    ("en", "2:21 p.m., December 11, 2014", "2014-12-11T14:21:00"),
    ("en", "10:06am Dec 11, 2014", "2014-12-11T10:06:00"),
    ("en", "21 January 2012 13:11:23.678", "2012-01-21T13:11:23.678000"),
    ("fr", "22 janvier 2015 à 14h40", "2015-01-22T14:40:00"),
    ("fr", "Le 11 Décembre 2014 à 09:00", "2014-12-11T09:00:00"),
    ("es", "julio 5, 2015 en 1:04 pm", "2015-07-05T13:04:00"),
    ("nl", "vr jan 24, 2014 12:49", "2014-01-24T12:49:00"),
    ("ru", "28 октября 2014 в 07:54", "2014-10-28T07:54:00"),
    ("ru", "13 января 2015 г. в 13:34", "2015-01-13T13:34:00"),
    ("ru", "Пнд, 07 янв. 2019 г. 12:15", "2019-01-07T12:15:00"),
    ("tr", "08.Haziran.2014, 11:07", "2014-06-08T11:07:00"),
    ("tr", "14-Aralık-2012, 20:56", "2012-12-14T20:56:00"),
    ("cs", "pon 16. čer 2014 10:07:43", "2014-06-16T10:07:43"),
    ("cs", "čtv 14. lis 2013 12:38:43", "2013-11-14T12:38:43"),
    ("th", "ธันวาคม 11, 2014, 08:55:08 PM", "2014-12-11T20:55:08"),
    ("th", "11 ก.พ. 2020, 1:13 pm", "2020-02-11T13:13:00"),
    ("vi", "05 Tháng một 2015 - 03:54 AM", "2015-01-05T03:54:00"),
    ("uk", "12 лютого 2012, 13:12:23", "2012-02-12T13:12:23"),
    ("fil", "1978, 1 Peb, 7:05 PM", "1978-02-01T19:05:00"),
    ("zh", "2016年06月30日09时30分", "2016-06-30T09:30:00"),
    ("hi", "12 जनवरी  1997 11:08 अपराह्न", "1997-01-12T23:08:00"),
    ("ka", "2015 წ. 12 ივნ, 15:34", "2015-06-12T15:34:00"),
    ("hr", "20. studenoga 2010. @ 07:28", "2010-11-20T07:28:00"),
]

# Numeric dates with their upstream settings (test_dates_parsing "Numeric dates", test_order,
# test_year_first_date_with_explicit_date_order, test_dates_parsing_with_language):
# (language, text, order, date or datetime). Upstream reads these with the language's
# usual order; dsc reads them in the declared order, else in the locale's CLDR order.
DATEPARSER_NUMERIC = [
    ("en", "06-17-2014", None, "2014-06-17"),        # en writes M/d/yy
    ("en", "2023-11-08", "DMY", "2023-11-08"),       # a leading year is ISO whatever the order
    ("en", "2023-11-08", "MDY", "2023-11-08"),
    ("en", "1960-12-23", "DMY", "1960-12-23"),
    ("de", "10.1.2019", "DMY", "2019-01-10"),        # test_prefer_dates_from … languages=["de"]
    ("en", "10.1.2019", "MDY", "2019-10-01"),
    ("en", "11. 12. 2014, 08:45:39", "MDY", "2014-11-12T08:45:39"),
    ("hr", "02/10/2016 u 17:20", "DMY", "2016-10-02T17:20:00"),
    ("hr", "24.03.2019. u 22:22", "DMY", "2019-03-24T22:22:00"),
    ("hr", "27. 05. 2022. u 14:34", "DMY", "2022-05-27T14:34:00"),
    ("fi", "5.7.2018 5.45 ip.", "DMY", "2018-07-05T17:45:00"),
    ("fi", "12.5.2020 klo 16:45", "DMY", "2020-05-12T16:45:00"),
    ("en", "1999-12-31 19:00:00 -0500", None, "1999-12-31T19:00:00-05:00"),   # test_parsing_with_utc_offsets
    ("en", "15 May 2004 16:10 -0400", None, "2004-05-15T16:10:00-04:00"),
    ("en", "Fri, 09 Sep 2005 13:51:39 -0700", None, "2005-09-09T13:51:39-07:00"),
    ("en", "Thu, 30 May 2024 10:13:10 -0500 (CDT)", None, "2024-05-30T10:13:10-05:00"),
    ("en", "Mon, 15 Jan 2024 09:30:00 +0000 (UTC)", None, "2024-01-15T09:30:00+00:00"),
]

# Upstream accepts these; dsc rejects them on purpose: (language, text, order, upstream's
# answer, the start of dsc's reason).
REJECTED_UPSTREAM_CASES = [
    ("en", "10:04am", None, "2012-11-13 (today's date)", "not a date in en"),
    ("en", "Friday", None, "2012-11-09 (last Friday)", "not a date in en"),
    ("ru", "10 мая", None, "2012-05-10 (the current year)", "not a date in ru"),
    ("fr", "Dimanche 1er Février à 21:24", None, "2012-02-01", "not a date in fr"),
    ("ru", "2 Декабрь 95 11:15", None, "1995-12-02", "the year is not written with four digits"),
    ("en", "1/1/16 9:02:43.1", None, "2016-01-01", "two-digit year"),
    ("de", "18.10.14 um 22:56 Uhr", "DMY", "2014-10-18", "two-digit year"),
    ("en", "26. 10.21", None, "2021-10-26", "two-digit year"),
    # test_order: "A day and month that do not fit the date order are swapped" — not by dsc
    ("en", "13/01/2021", "MDY", "2021-01-13", "does not fit the declared order MDY"),
    ("en", "13/03/2014", None, "2014-03-13", "does not fit the order MDY of en"),  # en writes M/d/yy
    ("en", "01/13/2021", "DMY", "2021-01-13", "does not fit the declared order DMY"),
    ("en", "2021-13-01", "YMD", "2021-01-13", "no month 13"),
    # weekdays that are not the date's weekday (23 May 1856 was a Friday; 10 June 2014 a
    # Tuesday; 17 March 2011 a Thursday)
    ("en", "Sunday 23 May 1856 12:09:08 AM", "DMY", "1856-05-23", "Sunday is not the weekday"),
    ("pt", "sexta-feira, 10 de junho de 2014 14:52", None, "2014-06-10", "sexta-feira is not the weekday"),
    ("ka", "2011 წლის 17 მარტი, ოთხშაბათი", None, "2011-03-17", "ოთხშაბათი is not the weekday"),
    # a day range is not one date (upstream returns its first day)
    ("en", "June 12-14, 2021", None, "2021-06-12", "a range of days"),
    ("de", "12.-14. Juni 2021", None, "2021-06-12", "a range of days"),
    # an epoch timestamp (test_parse_timestamp) is not a written date
    ("en", "1484823450", None, "2017-01-19", "not a date"),
    # a zone abbreviation (test_parsing_with_time_zones_and_converting_to_UTC)
    ("en", "Sep 03 2014 | 4:32 pm EDT", None, "2014-09-03T16:32-04:00", "time-zone name"),
    # test_empty_dates_string_is_not_parsed / test_error_should_be_raised_for_invalid_dates
    ("en", "", None, "ValueError", "empty value"),
    ("en", "invalid date string", None, "None", "not a date in en"),
]


@pytest.mark.parametrize("lang, text, expected", DATEPARSER_DATES)
def test_dateparser_dates(lang, text, expected):
    result = parse_date(text, [lang])
    assert (result.status, result.text) == ("ok", expected), result.reason


@pytest.mark.parametrize("lang, text, expected", DATEPARSER_DATETIMES)
def test_dateparser_datetimes(lang, text, expected):
    result = parse_datetime(text, [lang])
    assert (result.status, result.text) == ("ok", expected), result.reason
    assert parse_date(text, [lang]).text == expected[:10]  # a date rule keeps the written day


@pytest.mark.parametrize("lang, text, order, expected", DATEPARSER_NUMERIC)
def test_dateparser_numeric_and_offsets(lang, text, order, expected):
    reader = parse_datetime if "T" in expected else parse_date
    result = reader(text, [lang], order=order)
    assert (result.status, result.text) == ("ok", expected), result.reason


@pytest.mark.parametrize("lang, text, order, upstream, reason", REJECTED_UPSTREAM_CASES)
def test_dateparser_cases_dsc_will_not_guess(lang, text, order, upstream, reason):
    result = parse_datetime(text, [lang], order=order)
    assert result.status == "rejected" and result.reason.startswith(reason), (upstream, result)


def test_two_readings_without_an_order_are_ambiguous_with_both_shown():
    result = parse_date("03/04/2019")
    assert result.status == "ambiguous"
    assert result.reason == "ambiguous: 2019-03-04 (MDY) or 2019-04-03 (DMY); declare the order"
    assert parse_date("03/04/2019", order="DMY").text == "2019-04-03"
    assert parse_date("04/04/2019").text == "2019-04-04"  # both readings are the same day


def cldr_order(locale: str) -> str:
    """The order of day, month and year in the locale's CLDR short date pattern, by babel."""
    pattern = Locale.parse(locale).date_formats["short"].pattern
    return "".join(sorted("DMY", key=lambda field: pattern.index({"D": "d", "M": "M", "Y": "y"}[field])))


def written(text: str, order: str) -> str:
    """The ISO date `text` (three numbers) denotes in `order`."""
    parts = dict(zip(order, map(int, re.findall(r"\d+", text))))
    return f"{parts['Y']:04d}-{parts['M']:02d}-{parts['D']:02d}"


@pytest.mark.parametrize("locale, text", [("de_DE", "10.1.2019"), ("hr", "02/10/2016"), ("en_US", "03/04/2019"),
                                          ("fr", "01/03/2021"), ("en_GB", "03/04/2019")])
def test_a_locale_reads_numeric_dates_in_its_cldr_order(locale, text):
    # Defect 9: `10.1.2019` under de_DE and `02/10/2016` under hr were refused as ambiguous.
    # dateparser's test_locale_order_is_not_swapped reads fr as DMY too.
    assert cldr_order(locale) in ("DMY", "MDY")
    assert parse_date(text, [locale]).text == written(text, cldr_order(locale))
    assert parse_date(text, [locale], order="YMD").status == "rejected"  # the rule's order wins


def test_declared_locales_that_disagree_on_the_order_make_a_date_ambiguous():
    day_first, month_first = "de_DE", "en_US"
    assert (cldr_order(day_first), cldr_order(month_first)) == ("DMY", "MDY")
    assert parse_date("10.1.2019", [day_first, month_first]).reason == (
        "ambiguous: 2019-10-01 (MDY in en_US) or 2019-01-10 (DMY in de_DE); declare the order")
    assert parse_date("13/03/2014", [day_first, month_first]).text == "2014-03-13"  # only de_DE reads it
    assert parse_date("10.1.2019", [day_first, month_first], order="DMY").text == "2019-01-10"
    assert parse_date("13/03/2014", [month_first]).reason == "does not fit the order MDY of en_US (month 13)"


def test_a_locale_that_writes_the_year_first_reads_no_year_last_date():
    assert cldr_order("sv_SE") == "YMD"
    assert parse_date("03/04/2019", ["sv_SE"]).reason.startswith("written with the year last")
    assert parse_date("2019-04-03", ["sv_SE"]).text == "2019-04-03"
    assert parse_date("03/04/2019", ["sv_SE", "de_DE"]).text == "2019-04-03"  # de_DE reads it


WINDOW = (1950, 2049)


def test_two_digit_years_are_read_only_with_a_century_window():
    assert parse_date("18.10.14", ["de_DE"]).reason == (
        "two-digit year: the century is not written; declare the century window, e.g. years 1950..2049")
    assert cldr_order("de_DE") == "DMY"
    assert parse_date("18.10.14", ["de_DE"], years=WINDOW).text == "2014-10-18"
    assert parse_date("18.10.14", order="DMY", years=(1900, 1999)).text == "1914-10-18"
    assert parse_date("31.12.50", order="DMY", years=WINDOW).text == "1950-12-31"  # both ends are in
    assert parse_date("31.12.49", order="DMY", years=WINDOW).text == "2049-12-31"
    assert parse_datetime("18.10.14 um 22:56 Uhr", ["de"], order="DMY", years=WINDOW).text == "2014-10-18T22:56:00"
    assert parse_date("14.10.18", years=WINDOW).reason == (  # no order, no locale: the year may be first
        "ambiguous: 2018-10-14 (DMY) or 2014-10-18 (YMD); declare the order")
    assert parse_date("1.2.5", order="DMY", years=WINDOW).reason == "read DMY, the year 5 has one digit"


def test_two_digit_years_written_with_words():
    assert parse_date("5 Dec 06", ["en"]).reason.endswith("declare the century window, e.g. years 1950..2049")
    assert parse_date("5 Dec 06", ["en"], years=WINDOW).text == "2006-12-05"
    assert parse_date("Tue, 5 Dec 06", ["en"], years=WINDOW).text == "2006-12-05"
    assert parse_date("Mon, 5 Dec 06", ["en"], years=WINDOW).reason.startswith("Mon is not the weekday")
    assert parse_datetime("2 Декабрь 95 11:15", ["ru"], years=WINDOW).text == "1995-12-02T11:15:00"
    assert parse_date("05 Dec 06", ["en"], years=WINDOW).reason == (
        "ambiguous: 2005-12-06 or 2006-12-05: which number is the year?")


@pytest.mark.parametrize("window, reason", [((2049, 1950), "years 2049..1950 runs backwards"),
                                            ((1950, 2000), "years 1950..2000 spans 51 years, not 100")])
def test_a_bad_century_window_is_the_rules_error(window, reason):
    with pytest.raises(OptionError, match=reason):
        parse_date("18.10.14", ["de_DE"], years=window)


def test_a_spelled_date_whose_reading_depends_on_the_order_is_ambiguous():
    assert parse_date("10 01 2019", ["en"]).status == "rejected"  # no separator: not a date
    assert parse_date("5 Dec 06", ["en"]).reason.startswith("the year is not written with four digits")


def test_relative_dates_need_the_base_written_in_the_spec():
    assert parse_date("yesterday", ["en"]).reason.startswith("relative date")
    assert parse_date("vor 2 Tagen", ["de"]).reason.startswith("relative date")
    assert parse_date("yesterday", ["en"], base="2024-03-01").text == "2024-02-29"
    assert parse_date("vor 2 Tagen", ["de"], base="2024-03-01").text == "2024-02-28"
    assert parse_datetime("2 hours ago", ["en"], base="2024-03-01T10:30").text == "2024-03-01T08:30:00"
    assert parse_datetime("yesterday", ["en"], base="2024-03-01").reason.startswith("no time of day")
    with pytest.raises(OptionError, match="not an ISO 8601 date"):
        parse_date("yesterday", ["en"], base="last tuesday")


def test_words_need_a_declared_language_and_only_declared_languages_are_read():
    assert parse_date("10. Januar 2019").reason == "written with words, and no locale is declared to read them"
    assert parse_date("10. Januar 2019", ["en"]).status == "rejected"
    assert parse_date("10. Januar 2019", ["en", "de"]).text == "2019-01-10"


def test_times_zones_and_datetimes():
    assert parse_datetime("2019-01-10T10:00:00Z").text == "2019-01-10T10:00:00+00:00"
    assert parse_datetime("2019-01-10 10:00 +05:30").text == "2019-01-10T10:00:00+05:30"
    assert parse_datetime("2019-01-10 12:00 am").text == "2019-01-10T00:00:00"
    assert parse_datetime("2019-01-10 13:00 pm").reason == "hour 13 with am/pm"
    assert parse_datetime("2019-01-10 25:00").reason.startswith("not a time of day")
    assert parse_datetime("2019-01-10 10:00 CST", ["en"]).reason.startswith("time-zone name")
    assert parse_datetime("2019-01-10").reason == "no time of day: a date alone is not a datetime"
    assert parse_date("2019-01-10T23:30:00-05:00").text == "2019-01-10"  # the day as written


@pytest.mark.parametrize("text", ["2019-03-04 10:00 +25:00", "2019-03-04 10:00 +24:00", "2019-03-04 10:00 +2400",
                                  "2019-03-04 10:00 +23:60", "2019-03-04 10:00 -99:99", "2019-03-04T10:00+25:00"])
def test_an_offset_of_a_day_or_more_is_a_reason_not_a_crash(text):
    assert parse_datetime(text).reason.startswith("not a UTC offset: "), parse_datetime(text)
    assert parse_date(text).reason.startswith("not a UTC offset: ")
    assert parse_datetime("2019-03-04 10:00 +23:59").text == "2019-03-04T10:00:00+23:59"


def test_calendar_and_order_errors():
    assert parse_date("2019-02-29").reason == "not a calendar date: 2019-02-29"
    assert parse_date("2020-02-29").text == "2020-02-29"
    assert parse_date("31/02/2019").reason == "not a calendar date in either day-month order"
    assert parse_date("10/01/2019", order="YMD").reason.startswith("written with the year last")
    with pytest.raises(OptionError):
        parse_date("10/01/2019", order="DYM")


def test_values_that_are_already_dates_pass_through():
    assert parse_date(dt.date(2020, 1, 2)).text == "2020-01-02"
    assert parse_date(dt.datetime(2020, 1, 2, 3, 4)).text == "2020-01-02"
    assert parse_datetime(dt.datetime(2020, 1, 2, 3, 4)).text == "2020-01-02T03:04:00"
    assert parse_date(None).status == "ok" and parse_date(None).value is None
    assert parse_date(20200102).reason == "not text: a int"
