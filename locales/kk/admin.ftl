## Admin broadcasts: the /broadcast dialog, progress and reports, the weekly tip footer.

broadcast-menu = <b>Таратылымдар</b>. Не істейміз?
btn-broadcast-compose = ✍️ Мәтін жазу
btn-broadcast-tip = 💡 Кітапханадан кеңес
btn-broadcast-list = 📋 Жоспарланған және жүріп жатқандар
broadcast-ask-kk = <b>Қазақша</b> мәтінді жіберіңіз (Telegram HTML: &lt;b&gt;, &lt;i&gt;, &lt;a href="…"&gt;). Қазақша мәтін болмаса — /skip.
broadcast-ask-ru = Енді <b>орысша</b> мәтінді жіберіңіз. Орысша мәтін болмаса — /skip.
broadcast-need-text = Кемінде бір мәтін керек. Қазақша мәтінді жіберіңіз немесе шығу үшін /cancel басыңыз.
broadcast-html-invalid =
    Мәтіннің белгілеуінде қате бар, Telegram оны қабылдамайды:
    { $errors }
    Түзетіп, мәтінді қайта жіберіңіз.
broadcast-fallback-warning = ⚠️ { $missing ->
        [kk] Қазақша
       *[ru] Орысша
    } мәтін жоқ: бұл пайдаланушыларға { $missing ->
        [kk] орысша
       *[ru] қазақша
    } мәтін жіберіледі.
broadcast-tip-choose = Кеңесті таңдаңыз — әркімге өз тілінде барады:
broadcast-tip-unknown = Кітапханада мұндай кеңес жоқ. /broadcast командасын қайта ашыңыз.
broadcast-audience-choose = Кімге жібереміз?
btn-broadcast-aud-all = 👥 Барлығына
btn-broadcast-aud-kk = 🇰🇿 Қазақ тілінде оқитындарға
btn-broadcast-aud-ru = 🇷🇺 Орыс тілінде оқитындарға
btn-broadcast-aud-expiring = ⏳ Кілтінің мерзімі жақында бітетіндерге
btn-broadcast-aud-legal = 🏢 Заңды тұлға кілті барларға
btn-broadcast-aud-inactive = 💤 Көптен бері кірмегендерге
broadcast-ask-days = Неше күн? 1-ден 365-ке дейінгі санды жіберіңіз.
broadcast-days-invalid = 1-ден 365-ке дейінгі бүтін сан керек, мысалы 30.
broadcast-when = Қашан жібереміз?
btn-broadcast-now = 🚀 Қазір
btn-broadcast-later = 🕒 Жоспарлау
broadcast-ask-time = Күні мен уақытын кк.аа.жжжж сс:мм пішімінде жіберіңіз ({ $tz } уақыт белдеуі), мысалы 28.01.2027 11:00.
broadcast-time-invalid = Күнді түсінбедім. Пішімі: кк.аа.жжжж сс:мм, мысалы 28.01.2027 11:00.
broadcast-time-past = Бұл уақыт өтіп кетті. Алдағы уақытты көрсетіңіз.
broadcast-preview-header = Алдын ала көру — { $language ->
        [kk] қазақ тілінде оқитын
       *[ru] орыс тілінде оқитын
    } пайдаланушылар хабарламаны осылай көреді:
broadcast-confirm =
    <b>Таратылымды тексеріңіз</b>
    Кімге: { $audience }
    Алушылар саны: { $count }
    Қашан: { $when }
    Ақылы таратылым (секундына 30 хабарламадан жоғары): { $paid ->
        [yes] иә
       *[no] жоқ
    }
btn-broadcast-send = ✅ Растау
btn-broadcast-paid-on = 💫 Ақылы таратылымды қосу
btn-broadcast-paid-off = Ақылы таратылымды өшіру
btn-broadcast-abort = ✖️ Бас тарту
broadcast-aborted = Таратылым құрылмады.
broadcast-empty-audience = Бұл аудиторияда бірде-бір алушы жоқ. Басқасын таңдаңыз.
broadcast-now = қазір
broadcast-started = №{ $id } таратылым басталды: { $count } алушы. Төменде барысы көрсетіледі.
broadcast-scheduled = №{ $id } таратылым { $when } уақытына жоспарланды. Бас тарту үшін: /broadcast → «Жоспарланған және жүріп жатқандар».
broadcast-dialog-expired = Таратылым диалогы ескірді. Қайта бастаңыз: /broadcast
broadcast-already-confirmed = Бұл таратылым расталып қойған — екінші рет жіберілмейді.
broadcast-aud-all = барлық пайдаланушылар
broadcast-aud-lang = { $language ->
        [kk] қазақ тілінде оқитын
       *[ru] орыс тілінде оқитын
    } пайдаланушылар
broadcast-aud-expiring = кілтінің мерзімі алдағы { $days } күнде бітеді
broadcast-aud-legal = заңды тұлға кілтінің иелері
broadcast-aud-inactive = { $days } күн және одан көп кірмегендер
broadcast-list-empty = Жоспарланған немесе жүріп жатқан таратылым жоқ.
broadcast-list-item = №{ $id } · { $status ->
        [running] жүріп жатыр
       *[scheduled] жоспарланған
    } · { $when } · { $audience }
btn-broadcast-cancel-one = ✖️ №{ $id } тоқтату
broadcast-cancelled = №{ $id } таратылым тоқтатылды. Жіберіліп қойған хабарламалар алушыларда қалады.
broadcast-cancel-failed = №{ $id } таратылымды тоқтату мүмкін емес: ол аяқталған немесе бұрын тоқтатылған.
broadcast-progress =
    📤 №{ $id } таратылым
    Жіберілді: { $sent } · Қате: { $failed } · Нәтижесі белгісіз: { $unknown } · Ботты бұғаттағандар: { $blocked }
    Қалды: { $remaining } · Шамамен тағы { $eta }
broadcast-report =
    ✅ <b>№{ $id } таратылым аяқталды</b>
    Алушылар: { $total }
    Жеткізілді: { $sent }
    Ботты бұғаттағандар: { $blocked }
    Қателер: { $failed }
    Нәтижесі белгісіз (жіберу кезінде бот қайта іске қосылды): { $unknown }
    Шығарылғандар (жазылымнан бас тартқандар): { $excluded }
broadcast-weekly-footer = <i>Kilt-тің апта кеңесі. Өшіру: /reminders</i>

## Teaching the bot from real questions: /stats and /learned.

cmd-learned = Үйретілген сұрақтар (әкімші)
teach-unanswered-title = Соңғы { $days } күндегі жауапсыз сұрақтар (аты-жөн мен нөмірлер алынып тасталған, кім сұрағаны сақталмайды):
teach-unanswered-line = { $n }. { $text } — { $count } рет
teach-unanswered-none = Жауапсыз сұрақ жоқ.
teach-unanswered-hint = Төмендегі батырмалар: «N → тақырып» N нөмірлі сұрақты білім қорының тақырыбына байлайды, «N ✕» оны ЭЦҚ-ға қатысы жоқ сұрақ деп белгілейді.
btn-teach-attach = { $n } → тақырып
btn-teach-out = { $n } ✕ тақырыптан тыс
btn-teach-learned = 📚 Үйретілген сұрақтар ({ $count })
btn-teach-export = ⬇️ TSV файлын алу
btn-teach-remove = 🗑 { $n }
teach-choose-topic =
    Бұл сұрақ қай тақырыпқа жатады?
    «{ $text }»
teach-attached = ✅ Есте сақтадым: «{ $text }» → { $topic }. Осылай сұраған адам бірден осы тақырыптың жауабын алады.
teach-marked-out = ✅ Тақырыптан тыс сұрақ деп белгіленді: «{ $text }». Бот оған жауабын білмейтінін сыпайы айтып, немен көмектесе алатынын ұсынады.
teach-already-done = Бұл сұрақ қаралып қойған немесе жойылған (сақтау мерзімі өтті). /stats командасын қайта ашыңыз.
teach-unknown-topic = Білім қорында мұндай тақырып жоқ. /stats командасын қайта ашыңыз.
teach-out-of-scope = тақырыптан тыс
teach-learned-title = <b>Үйретілген сұрақтар</b> — барлығы { $count }, жаңалары жоғарыда:
teach-learned-line = { $n }. «{ $text }» → { $topic } ({ $language })
teach-learned-more = …тағы { $count } — толық тізім TSV файлында.
teach-learned-none = Әзірге үйретілген сұрақ жоқ. /stats ішінде жауапсыз сұрақты тақырыпқа байлаңыз.
teach-removed = Жойылды: «{ $text }». Бұл сұрақты енді қайтадан білім қорынан әдеттегі іздеу шешеді.
teach-export-caption = Үйретілген сұрақтар: { $count }. Бағандар: form, topic, question (topic «none» — тақырыптан тыс). Оларды білім қорының мысалдарына көшіруге болады.
teach-admin-only-button = Бұл батырма тек бот әкімшілеріне арналған.
