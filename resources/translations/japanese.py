"""The Japanese text of every string in gui/, keyed by the English source (``update_ja.py`` seeds the catalogue from it).

Add a string here in the same change that adds it to the code; the test suite
names any string left untranslated.
"""

JAPANESE = {
    # capture page
    " pictures": " 枚",
    "How many pictures one burst takes (one every 0.2 s)": "連続撮影で撮る枚数（0.2 秒ごとに 1 枚）",
    "Import pictures…": "画像を取り込む…",
    "Import folder…": "フォルダーを取り込む…",
    "Capture to “{name}”  (Space)": "「{name}」に撮影  (スペース)",
    "Pictures in “{name}”: {count}": "「{name}」の画像: {count} 枚",
    "Add a class first": "先にクラスを追加してください",
    "No class yet: press Add… to make one.": "クラスがまだありません。「追加…」で作成してください。",
    "Stop burst ({left} left)": "連続撮影を止める（残り {left} 枚）",
    "Burst  (B)": "連続撮影  (B)",
    "Add a class first, then capture.": "先にクラスを追加してから撮影してください。",
    "No picture to capture: start a camera or another source first.":
        "撮影できる画像がありません。先にカメラなどの入力を開始してください。",
    "A picture could not be saved: {error}": "画像を保存できませんでした: {error}",
    "{count} picture(s) moved to the trash (Ctrl+Z to undo)": "{count} 枚の画像をごみ箱に移しました（Ctrl+Z で元に戻す）",
    "Import pictures": "画像の取り込み",
    "Pictures (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)":
        "画像 (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;すべてのファイル (*)",
    "Import all pictures in a folder": "フォルダー内の画像をすべて取り込む",
    "Cancel": "キャンセル",
    "Imported {added} picture(s).": "{added} 枚の画像を取り込みました。",
    "Import": "取り込み",
    "{summary}\n\n{skipped} file(s) were left out because they are not readable pictures:\n{listing}":
        "{summary}\n\n読み込めない画像のため、{skipped} 個のファイルを除外しました:\n{listing}",
    "Import stopped: {error}": "取り込みを中止しました: {error}",
    # class list
    "Classes": "クラス",
    "Add…": "追加…",
    "Rename…": "名前を変更…",
    "Delete…": "削除…",
    "Press 1–9 to choose a class. Drop pictures here to move them.":
        "1～9 キーでクラスを選びます。画像をここにドロップすると移動します。",
    "{key}{name}   ({count} images)": "{key}{name}   （{count} 枚）",
    "Class": "クラス",
    "New class": "新しいクラス",
    "Name of the new class (for example: ok, scratch, dent):": "新しいクラスの名前（例: 良品、傷、へこみ）:",
    "Rename class": "クラス名の変更",
    "New name for “{name}”:": "「{name}」の新しい名前:",
    "Delete class": "クラスの削除",
    "Delete the class “{name}” and its {count} images?\n\nThey go to the project's trash; Edit > Undo brings them back.":
        "クラス「{name}」とその画像 {count} 枚を削除しますか？\n\nプロジェクトのごみ箱に移ります。「編集」>「元に戻す」で戻せます。",
    # confusion matrix
    "Rows: the real class. Columns: what the task said. Click a red cell to see those pictures.":
        "行: 実際のクラス。列: タスクの判定。赤いセルをクリックすると該当する画像を表示します。",
    "said: {name}": "判定: {name}",
    "is: {name}": "実際: {name}",
    "{count} picture(s) of “{truth}” taken for “{guess}”: click to see them":
        "「{truth}」の画像 {count} 枚が「{guess}」と判定されました。クリックで表示",
    # crash dialog
    "Something went wrong, but your images and tasks are safe and the app keeps running.\n\nWhat happened: {what}\n\n"
    "Details for a developer were written to:\n{where}":
        "問題が発生しましたが、画像とタスクは無事で、アプリは動作を続けます。\n\n内容: {what}\n\n"
        "開発者向けの詳細は次の場所に記録しました:\n{where}",
    "Problem": "問題",
    # evaluate page
    "Evaluate a task": "タスクの評価",
    "Task:": "タスク:",
    "Pictures": "画像",
    "Recognised": "正解率",
    "What the task said for each class (click a red cell to see the pictures it got wrong)":
        "クラスごとのタスクの判定（赤いセルをクリックすると誤判定の画像を表示）",
    "No task yet: train one on the Train page.": "タスクがまだありません。「学習」ページで作成してください。",
    "Checking…": "確認中…",
    "The check could not run.": "確認を実行できませんでした。",
    "Not part of this task (left out): {classes}.": "このタスクに含まれないため除外: {classes}。",
    "{count} unreadable picture(s) left out.": "読み込めない画像 {count} 枚を除外しました。",
    "is “{truth}”, task said “{guess}” ({confidence:.0f} % sure)":
        "実際は「{truth}」、判定は「{guess}」（確信度 {confidence:.0f} %）",
    "Pictures of “{truth}” taken for “{guess}”": "「{guess}」と判定された「{truth}」の画像",
    # export page
    "Export for the inspection station": "検査ステーション用に書き出し",
    "Tick the tasks the station should run. The bundle holds the model once and each task as a small file; "
    "the app checks that the exported model gives the same answers as here.":
        "ステーションで使うタスクにチェックを入れてください。バンドルにはモデルが 1 つと、タスクごとの小さなファイルが"
        "入ります。書き出したモデルがここと同じ判定をするかをアプリが確認します。",
    "Build bundle": "バンドルを作成",
    "Open folder": "フォルダーを開く",
    "Item": "項目",
    "Value": "値",
    "Building the bundle: exporting the model and checking its answers…": "バンドルを作成中: モデルを書き出して判定を確認しています…",
    "Building the bundle: {step}": "バンドルを作成中: {step}",
    "checking the answers of “{name}”": "「{name}」の判定を確認中",
    "loading the model": "モデルを読み込み中",
    "exporting the model": "モデルを書き出し中",
    "writing the files": "ファイルを書き込み中",
    "done": "完了",
    "Bundle ready: {folder}": "バンドルができました: {folder}",
    "Folder": "フォルダー",
    "Whole bundle": "バンドル全体",
    "Model, shared by all tasks": "モデル（全タスク共通）",
    "Task “{name}”": "タスク「{name}」",
    "Same answers as here (“{name}”)": "ここと同じ判定（「{name}」）",
    "{matches} of {images} pictures, largest score difference {diff:.1e}": "{images} 枚中 {matches} 枚、スコアの最大差 {diff:.1e}",
    "Time taken": "所要時間",
    "{seconds:.0f} s": "{seconds:.0f} 秒",
    "Note": "メモ",
    "The bundle could not be built: {error}": "バンドルを作成できませんでした: {error}",
    # image viewer
    "Picture": "画像",
    "◀ Previous": "◀ 前へ",
    "Next ▶": "次へ ▶",
    "Close": "閉じる",
    "No pictures": "画像がありません",
    "Cannot read this picture: {error}": "この画像を読み込めません: {error}",
    "{number} of {total}: {name} ({extra})": "{number} / {total}: {name}（{extra}）",
    # live page
    "Live inspection": "ライブ検査",
    "Bundle:": "バンドル:",
    "Other bundle…": "ほかのバンドル…",
    "Stop": "停止",
    "Start inspection": "検査を開始",
    "Stop inspection": "検査を停止",
    "Choose a bundle (made on the Export page) and press Start inspection.":
        "バンドル（「書き出し」ページで作成）を選んで「検査を開始」を押してください。",
    "Choose a bundle folder": "バンドルのフォルダーを選択",
    "Loading the bundle…": "バンドルを読み込んでいます…",
    "Switch to this task (Ctrl+Shift+{number})": "このタスクに切り替え（Ctrl+Shift+{number}）",
    "Running. Start a picture source above if none is shown.": "実行中。映像が表示されない場合は、上で入力を開始してください。",
    "The bundle cannot run: {error}": "バンドルを実行できません: {error}",
    "{confidence:.0f} % sure · task {task}": "確信度 {confidence:.0f} % · タスク {task}",
    # main window
    "VPT Inspection": "VPT 検査",
    "1  Capture": "1  撮影",
    "2  Train": "2  学習",
    "3  Evaluate": "3  評価",
    "4  Export": "4  書き出し",
    "5  Live": "5  ライブ",
    "Take and sort pictures (Alt+1)": "画像を撮影・分類する（Alt+1）",
    "Teach a task (Alt+2)": "タスクを学習させる（Alt+2）",
    "See how well it works (Alt+3)": "どのくらい正しいか確認する（Alt+3）",
    "Make a bundle for the station (Alt+4)": "ステーション用のバンドルを作る（Alt+4）",
    "Try it live (Alt+5)": "ライブで試す（Alt+5）",
    "&File": "ファイル(&F)",
    "Recent projects": "最近のプロジェクト",
    "New project…": "新しいプロジェクト…",
    "Open project…": "プロジェクトを開く…",
    "Close project": "プロジェクトを閉じる",
    "Empty the project's trash…": "プロジェクトのごみ箱を空にする…",
    "Quit": "終了",
    "&Edit": "編集(&E)",
    "&Language": "言語(&L)",
    "&Help": "ヘルプ(&H)",
    "Open the log folder": "ログフォルダーを開く",
    "Open a project folder": "プロジェクトのフォルダーを開く",
    "Preparing the demo project…": "デモプロジェクトを準備しています…",
    "Empty trash": "ごみ箱を空にする",
    "Delete the pictures and classes in the project's trash for good? This cannot be undone.":
        "プロジェクトのごみ箱にある画像とクラスを完全に削除しますか？ 元に戻せません。",
    "Undo": "元に戻す",
    "Redo": "やり直す",
    "Damaged project file": "プロジェクトファイルの破損",
    "The project file {path} cannot be read ({detail}).\n\nIt has not been changed. You can repair it from a backup, "
    "or rebuild the project from its picture folders: the damaged file is kept as project.damaged-….json and class "
    "colours and settings start fresh.":
        "プロジェクトファイル {path} を読み込めません（{detail}）。\n\nファイルは変更していません。バックアップから修復するか、"
        "画像フォルダーからプロジェクトを作り直せます。作り直す場合、破損したファイルは project.damaged-….json として残し、"
        "クラスの色と設定は初期状態に戻ります。",
    "Rebuild from picture folders": "画像フォルダーから作り直す",
    "Not saved": "保存されていません",
    "The project could not be saved: {error}\n\nClose anyway? Pictures and tasks are already on disk; only class "
    "order, colours and settings would be lost.":
        "プロジェクトを保存できませんでした: {error}\n\nこのまま閉じますか？ 画像とタスクは保存済みです。"
        "失われるのはクラスの順番、色、設定だけです。",
    "The translation for {language} is missing; using English.": "{language} の翻訳が見つかりません。英語で表示します。",
    # new project dialog
    "New project": "新しいプロジェクト",
    "Project name": "プロジェクト名",
    "Save in folder": "保存先フォルダー",
    "Browse…": "参照…",
    "Where to keep the project": "プロジェクトの保存先",
    "Choose the model file": "モデルファイルを選択",
    # checks before training
    "At least two classes: you have {count}.": "クラスが 2 つ以上あります: {count} 個。",
    "Add at least two classes (for example “ok” and “defect”). You have {count}.":
        "クラスを 2 つ以上追加してください（例:「良品」と「不良」）。現在 {count} 個です。",
    "Every class has pictures.": "すべてのクラスに画像があります。",
    "These classes have no pictures yet: {classes}. Capture or import some.":
        "次のクラスにはまだ画像がありません: {classes}。撮影するか取り込んでください。",
    "Model file found: {path}": "モデルファイルがあります: {path}",
    "The model {name} is downloaded once from the internet.": "モデル {name} をインターネットから 1 回だけダウンロードします。",
    "Few pictures in {classes}: training works, but take at least {minimum} per class to check accuracy.":
        "{classes} の画像が少なめです。学習はできますが、精度を確認するには各クラス {minimum} 枚以上撮影してください。",
    # preview
    "No picture source. Choose one above and press Start.": "映像の入力がありません。上で選んで「開始」を押してください。",
    "Connecting to {source}…": "{source} に接続しています…",
    "Picture source lost: {source}\nTrying to reconnect…": "映像の入力が途切れました: {source}\n再接続しています…",
    "{fps:.0f} frames/s": "{fps:.0f} フレーム/秒",
    # earlier runs
    "Task": "タスク",
    "Made": "作成日時",
    "Learned adjustments": "学習した調整",
    "Start values": "初期値",
    "Steps": "ステップ数",
    "File size": "ファイルサイズ",
    # save state
    "All changes saved": "すべての変更を保存しました",
    "Saving…": "保存中…",
    "Could not save the project: {error}": "プロジェクトを保存できませんでした: {error}",
    "Retry": "再試行",
    # source bar
    "Camera": "カメラ",
    "Video file": "動画ファイル",
    "Network camera (URL)": "ネットワークカメラ（URL）",
    "Folder of images": "画像フォルダー",
    "Camera's own size": "カメラの標準サイズ",
    "Find cameras": "カメラを探す",
    "Where the pictures come from": "映像の入力元",
    "Picture size to ask the camera for": "カメラに要求する画像サイズ",
    "Start": "開始",
    "Video file, e.g. line3.mp4": "動画ファイル（例: line3.mp4）",
    "Address, e.g. rtsp://192.168.0.20/stream1": "アドレス（例: rtsp://192.168.0.20/stream1）",
    "Folder with pictures, played like a camera": "画像のフォルダー（カメラのように再生）",
    "Choose a folder of images": "画像フォルダーを選択",
    "Choose a video file": "動画ファイルを選択",
    "Videos (*.mp4 *.avi *.mov *.mkv);;All files (*)": "動画 (*.mp4 *.avi *.mov *.mkv);;すべてのファイル (*)",
    "Searching…": "検索中…",
    "{number} (camera {number})": "{number}（カメラ {number}）",
    "No camera was found. Check the cable, or choose a video file or a folder of images instead.":
        "カメラが見つかりません。ケーブルを確認するか、動画ファイルか画像フォルダーを選んでください。",
    # thumbnail grid
    "Delete (can be undone)": "削除（元に戻せます）",
    "Show larger": "拡大表示",
    "Double-click to enlarge. Drag pictures onto a class to move them; Ctrl+1…9 moves them to that class; "
    "Delete removes them.":
        "ダブルクリックで拡大します。画像をクラスにドラッグすると移動します。Ctrl+1…9 でそのクラスに移動、"
        "Del キーで削除します。",
    "Move to class": "クラスへ移動",
    # train page
    "Train a task": "タスクの学習",
    "Start training": "学習を開始",
    "Earlier runs (select one to see its curves)": "これまでの学習（選ぶとグラフを表示）",
    "Mistakes: lower is better": "誤り: 低いほど良い",
    "Accuracy: higher is better": "正解率: 高いほど良い",
    "step": "ステップ",
    "training": "学習用",
    "check pictures": "確認用画像",
    "Ready.": "準備完了。",
    "Stopping…": "停止しています…",
    "Training: step {step} of {total}": "学習中: {total} ステップ中 {step} ステップ目",
    "about {seconds} s left": "残り約 {seconds} 秒",
    "about {minutes} min left": "残り約 {minutes} 分",
    "Loading the model…": "モデルを読み込んでいます…",
    "Reading pictures…": "画像を読み込んでいます…",
    "Training…": "学習中…",
    "Training cancelled; nothing was saved.": "学習を中止しました。何も保存していません。",
    "Training stopped.": "学習が止まりました。",
    "Training could not finish: {error}": "学習を完了できませんでした: {error}",
    "Curves of “{name}”": "「{name}」のグラフ",
    # training settings
    "Task name": "タスク名",
    "for example: surface-check": "例: surface-check",
    "The app tries a few settings on your pictures and keeps the best. This takes longer.":
        "アプリが画像でいくつかの設定を試し、最も良いものを使います。時間が長くかかります。",
    "Prompt tokens per layer": "層ごとのプロンプト数",
    "Prompt depth": "プロンプトの深さ",
    "Prompt start values": "プロンプトの初期値",
    "Picture framing": "画像の切り取り方",
    "Centre of the picture (the model's own; edges are cut off)": "画像の中央（モデル標準。端は切り取られます）",
    "Whole picture, stretched to fit": "画像全体（枠に合わせて引き伸ばす）",
    "Whole picture, with borders added": "画像全体（余白を加えて縦横比を保つ）",
    "Choose a whole-picture setting when defects can be near the edge.":
        "欠陥が画像の端に現れることがある場合は「画像全体」を選んでください。",
    "Training steps": "学習ステップ数",
    "automatic": "自動",
    "0: no prompt tokens (only the final layer is trained)": "0: プロンプトなし（最後の層だけを学習します）",
    "Try other settings on my pictures": "自分の画像でほかの設定も試す",
    "The app tries a few settings on your pictures and keeps the best. This takes about three times as long.":
        "アプリが画像でいくつかの設定を試し、最も良いものを使います。約 3 倍の時間がかかります。",
    "Learning rate": "学習率",
    "Advanced settings": "詳細設定",
    "Every layer (deep, more accurate)": "すべての層（より正確）",
    "First layer only (shallow, faster)": "最初の層のみ（より高速）",
    "From the pictures: averages": "画像から: 平均",
    "Random (recommended)": "ランダム（おすすめ）",
    "From the pictures: strongest features": "画像から: 最も強い特徴",
    "From the pictures: typical patterns (k-means)": "画像から: 代表的なパターン（k-means）",
    "From the pictures: random samples": "画像から: ランダムな抜き出し",
    "Random": "ランダム",
    # undo commands
    "Add class “{name}”": "クラス「{name}」の追加",
    "Rename class “{old}” to “{new}”": "クラス名「{old}」を「{new}」に変更",
    "Delete class “{name}”": "クラス「{name}」の削除",
    "Delete {count} image(s)": "画像 {count} 枚の削除",
    "Move {count} image(s) to “{name}”": "画像 {count} 枚を「{name}」へ移動",
    "Import {count} image(s)": "画像 {count} 枚の取り込み",
    # welcome page
    "Welcome": "ようこそ",
    "Teach the inspection station to recognise your parts: take pictures of each kind of part or defect, "
    "train a task, check it, and send it to the station.":
        "検査ステーションに部品を見分けさせましょう。部品や不良の種類ごとに画像を撮影し、タスクを学習させ、"
        "確認してからステーションに送ります。",
    "New project…  (Ctrl+N)": "新しいプロジェクト…  (Ctrl+N)",
    "Open project…  (Ctrl+O)": "プロジェクトを開く…  (Ctrl+O)",
    "Try the demo project": "デモプロジェクトを試す",
    # model chooser
    "Choose the model": "モデルの選択",
    "Use a model file… (for computers without internet)": "モデルファイルを使う…（インターネットのないコンピューター向け）",
    "Your engineer gives you the file (for example on a USB stick) and tells you which kind of model it is. "
    "The app checks at once that the file fits.":
        "技術担当者からファイル（USB メモリーなど）と、モデルの種類を受け取ってください。"
        "ファイルが合っているかをアプリがすぐに確認します。",
    "Choose file…": "ファイルを選ぶ…",
    "no file chosen": "ファイルが選ばれていません",
    "Which kind of model the file holds": "ファイルに入っているモデルの種類",
    "Download ({size:.0f} MB)": "ダウンロード（{size:.0f} MB）",
    "Downloading… You can keep working; Cancel stops the download.":
        "ダウンロード中… 作業を続けられます。「キャンセル」でダウンロードを止めます。",
    "Checking the model file…": "モデルファイルを確認しています…",
    "Choose the model file and the kind of model it holds.": "モデルファイルと、その種類を選んでください。",
    "✔ The file fits: {name}": "✔ ファイルは使えます: {name}",
    "This model is not on this computer yet: press Download (needs internet once).":
        "このモデルはまだこのコンピューターにありません。「ダウンロード」を押してください（インターネットが 1 回だけ必要です）。",
    "✔ Ready to use.": "✔ 使用できます。",
    "This computer cannot reach the internet, so the model cannot be downloaded. The built-in model stays "
    "selected. Without internet, ask your engineer for the model file and choose “Use a model file…”.":
        "このコンピューターはインターネットにつながらないため、モデルをダウンロードできません。内蔵モデルを選んだままにします。"
        "インターネットがない場合は、技術担当者にモデルファイルをもらい、「モデルファイルを使う…」を選んでください。",
    "Download cancelled. Nothing was changed.": "ダウンロードを中止しました。何も変更していません。",
    "Model files (*.safetensors *.pth *.pt *.bin);;All files (*)":
        "モデルファイル (*.safetensors *.pth *.pt *.bin);;すべてのファイル (*)",
    "{done:.0f} of {total:.0f} MB": "{total:.0f} MB 中 {done:.0f} MB",
    "The download stopped before the end; the built-in model stays selected. Try again later: it continues "
    "where it stopped.":
        "ダウンロードが途中で止まりました。内蔵モデルを選んだままにします。あとでもう一度試すと、止まったところから続きます。",
    "This file does not fit “{model}”: it holds another kind of model, or it is damaged. Choose the kind your "
    "engineer named, or another file.":
        "このファイルは「{model}」に合いません。別の種類のモデルか、壊れたファイルです。"
        "技術担当者が指定した種類か、別のファイルを選んでください。",
    "Change…": "変更…",
    "Model": "モデル",
    "Built-in model (small, works offline)": "内蔵モデル（小型、インターネット不要）",
    "General-purpose model, self-taught on web pictures (DINOv2 small)":
        "汎用モデル、ウェブ上の画像で自己学習（DINOv2 small）",
    "Photo model taught on 14 million labelled photos (ViT small, ImageNet-21k)":
        "ラベル付き写真 1,400 万枚で学習した写真モデル（ViT small、ImageNet-21k）",
    "Photo model taught on 1.3 million labelled photos (DeiT small)":
        "ラベル付き写真 130 万枚で学習した写真モデル（DeiT small）",
    "Ships with the app and needs no internet. It learned from drawn patterns, not photos, so it is the weakest "
    "choice: good for trying the app, often not enough for real defects.":
        "アプリに含まれていて、インターネットは不要です。写真ではなく描いた模様で学習したため最も弱い選択肢です。"
        "アプリを試すのには十分ですが、実際の不良には足りないことがよくあります。",
    "Usually the best start for defects and surfaces. Downloaded once, then used without internet.":
        "不良や表面の検査では、たいていこれが最適な出発点です。1 回ダウンロードすれば、その後はインターネットなしで使えます。",
    "A strong choice for telling kinds of parts apart. Downloaded once, then used without internet.":
        "部品の種類の見分けに強い選択肢です。1 回ダウンロードすれば、その後はインターネットなしで使えます。",
    "about {seconds:.1f} s per picture on a small PC without a graphics card":
        "グラフィックボードのない小型 PC で 1 枚あたり約 {seconds:.1f} 秒",
    "under 0.1 s per picture on a small PC without a graphics card":
        "グラフィックボードのない小型 PC で 1 枚あたり 0.1 秒未満",
    "{size:.0f} MB, built in": "{size:.0f} MB、内蔵",
    "{size:.0f} MB download": "{size:.0f} MB のダウンロード",
    "{size} · {speed} · licence: {licence}": "{size} · {speed} · ライセンス: {licence}",
    "Model file {file} (same kind as: {model})": "モデルファイル {file}（種類: {model}）",
    "Test model with random values (for trying the app only)": "ランダムな値のテスト用モデル（アプリを試す用）",
    "Model chosen by an engineer: {name}": "技術担当者が選んだモデル: {name}",
    "for example: line 3 housings": "例: 3 号ライン ハウジング",
    "The project will be the folder {folder}": "プロジェクトはフォルダー {folder} になります",
    "Type a name for the project to continue.": "続けるにはプロジェクト名を入力してください。",
    "Model: the built-in model is ready.": "モデル: 内蔵モデルを使用できます。",
    "The built-in model cannot be used: {problem}": "内蔵モデルを使用できません: {problem}",
    "Model: {name} is on this computer.": "モデル: {name} はこのコンピューターにあります。",
    "Model {name} is not downloaded yet: press Change… next to Model and download it, or choose another.":
        "モデル {name} はまだダウンロードされていません。「モデル」の横の「変更…」を押してダウンロードするか、別のモデルを選んでください。",
    "No model chosen: press Change… next to Model.": "モデルが選ばれていません。「モデル」の横の「変更…」を押してください。",
    'The model arguments under Advanced settings are not valid: write them like {{"img_size": 224}} or leave '
    "them empty.":
        '「詳細設定」のモデル引数が正しくありません。{{"img_size": 224}} のように書くか、空にしてください。',
    "Model file not found: {path}. Press Change… next to Model.":
        "モデルファイルが見つかりません: {path}。「モデル」の横の「変更…」を押してください。",
    "No model file chosen. Press Change… next to Model.": "モデルファイルが選ばれていません。「モデル」の横の「変更…」を押してください。",
    "Test model with random values: training works, but the results say nothing about real use.":
        "ランダムな値のテスト用モデルです。学習はできますが、結果は実際の性能を表しません。",
    "Model (timm name, for engineers)": "モデル（timm 名、技術担当者向け）",
    "Model arguments (JSON, for engineers)": "モデル引数（JSON、技術担当者向け）",
    "A timm model name, e.g. vit_base_patch16_224.mae. Changing it replaces the model chosen above.":
        "timm のモデル名（例: vit_base_patch16_224.mae）。変更すると上で選んだモデルの代わりに使われます。",
    # live inspection: verdicts
    '✔ Picture taken for “{name}”':
        '✔ 「{name}」に撮影しました',
    'Good results of “{task}”':
        '「{task}」の良品の結果',
    'Live inspection shows good parts in green and every other result as a defect in red.':
        'ライブ検査では、良品を緑で、それ以外の結果を不良として赤で表示します。',
    'This task finds defects. Good parts are:':
        'このタスクは不良を見つけます。良品は次のとおりです:',
    'This task sorts kinds of parts: no result is a defect':
        'このタスクは部品の種類を分けます（不良の結果はありません）',
    'Starts the picture source too, if it is not running':
        '映像の入力が止まっている場合は、それも開始します',
    'Good results…':
        '良品の設定…',
    'Choose which results are good parts (green) and which are defects (red)':
        'どの結果を良品（緑）、どれを不良（赤）とするかを選びます',
    '{confidence:.0f} % sure · {total:.0f} ms':
        '確信度 {confidence:.0f} % · {total:.0f} ms',
    'Maybe “{label}” ({confidence:.0f} % sure) · task {task}':
        '「{label}」かもしれません（確信度 {confidence:.0f} %）· タスク {task}',
    '✔ Good: {label}':
        '✔ 良品: {label}',
    '✖ Defect: {label}':
        '✖ 不良: {label}',
    '? Not sure — check this part by hand':
        '? 判定できません — この部品は人が確認してください',
    'Not inspecting':
        '検査していません',
    'Waiting for the first result…':
        '最初の結果を待っています…',
    # capture: bursts and feedback
    '✔ {taken} of {total} taken for “{name}”':
        '✔ 「{name}」に {total} 枚中 {taken} 枚目を撮影しました',
    'The picture source shows only {count} different pictures, so the burst stopped after {count}. Repeats are not saved.':
        '映像の入力には異なる画像が {count} 枚しかないため、{count} 枚で連続撮影を止めました。同じ画像は保存しません。',
    # closing during long work
    'A task is still being trained. Stopping now loses this run; tasks trained earlier are kept.':
        'タスクの学習がまだ続いています。いま止めるとこの学習は失われます。以前に学習したタスクは残ります。',
    'A bundle is still being built. Stopping now leaves no bundle; nothing else changes.':
        'バンドルをまだ作成中です。いま止めるとバンドルは作られません。ほかには何も変わりません。',
    'Stop and close?':
        '止めて閉じますか？',
    'Stop and close':
        '止めて閉じる',
    'Keep working':
        '作業を続ける',
    'Stopping… (after the current step)':
        '停止しています…（いまの手順のあとで止まります）',
    'Export cancelled; no bundle was written.':
        '書き出しを中止しました。バンドルは作成していません。',
    # honest accuracy, runs, evaluate
    "Check on the project's pictures":
        'プロジェクトの画像で確認',
    'This task file cannot be read.':
        'このタスクファイルは読み込めません。',
    '“{task}”: not checked on pictures it did not train on (too few pictures per class).':
        '「{task}」: 学習に使っていない画像ではまだ確認していません（クラスごとの画像が少なすぎます）。',
    '“{task}”: {accuracy:.0f} % right on pictures it did not train on':
        '「{task}」: 学習に使っていない画像で {accuracy:.0f} % 正解',
    '“{task}”: {accuracy:.0f} % right on {count} pictures it did not train on':
        '「{task}」: 学習に使っていない画像 {count} 枚で {accuracy:.0f} % 正解',
    'Measured by training again without each group of pictures in turn.':
        '画像のグループを 1 つずつ外して学習し直して測りました。',
    'On the pictures it trained on: {accuracy:.0f} % (not a test: it has seen them).':
        '学習に使った画像では {accuracy:.0f} %（テストではありません。一度見た画像です）。',
    "Press “Check on the project's pictures” to test it on pictures taken after training.":
        '「プロジェクトの画像で確認」を押すと、学習のあとに撮影した画像でテストします。',
    'New pictures, taken after training: {accuracy:.0f} % right on {count}.':
        '学習のあとに撮影した新しい画像: {count} 枚で {accuracy:.0f} % 正解。',
    'No new pictures of {classes} yet: that figure does not cover them.':
        '{classes} の新しい画像はまだありません。上の数値には含まれていません。',
    'No new pictures since this task was trained: capture new parts to test it.':
        'このタスクの学習後に撮影した画像がありません。新しい部品を撮影してテストしてください。',
    'No pictures of {classes} in the project: these classes are not checked at all.':
        'プロジェクトに {classes} の画像がありません。これらのクラスはまったく確認されていません。',
    'New pictures ({count}): a real test':
        '新しい画像（{count} 枚）: 本当のテスト',
    'Pictures it trained on ({count}): not a test':
        '学習に使った画像（{count} 枚）: テストではありません',
    'Tick the tasks and press Build bundle.':
        'タスクにチェックを入れて「バンドルを作成」を押してください。',
    'Right on unseen pictures':
        '未学習の画像での正解率',
    'On training pictures':
        '学習に使った画像での正解率',
    'Time':
        '時間',
    'The first accuracy is the one to trust: it is measured on pictures the task did not learn from. On its own training pictures a task always looks better.':
        '信頼できるのは最初の正解率です。タスクが学習していない画像で測っています。学習に使った画像では、タスクは常に実際より良く見えます。',
    'not checked':
        '未確認',
    '{accuracy} of {count}':
        '{count} 枚中 {accuracy}',
    '{minutes} min {seconds} s':
        '{minutes} 分 {seconds} 秒',
    '{seconds} s':
        '{seconds} 秒',
    '{time} (training only)':
        '{time}（学習のみ）',
    'averages':
        '平均',
    'strongest features':
        '最も強い特徴',
    'typical patterns':
        '代表的なパターン',
    'samples':
        '抜き出し',
    'random':
        'ランダム',
    '{count}, first layer':
        '{count}、最初の層',
    '{count}, every layer':
        '{count}、すべての層',
    'Starting…':
        '開始しています…',
    'Saved as task “{name}”.':
        'タスク「{name}」として保存しました。',
    'It could not be checked on pictures it did not train on: take more pictures per class.':
        '学習に使っていない画像で確認できませんでした。クラスごとにもっと画像を撮影してください。',
    'Right on {accuracy:.0f} % of the pictures it did not train on.':
        '学習に使っていない画像の {accuracy:.0f} % が正解でした。',
    'Right on {accuracy:.0f} % of {count} pictures it did not train on.':
        '学習に使っていない画像 {count} 枚の {accuracy:.0f} % が正解でした。',
    'See the Evaluate page for details.':
        '詳しくは「評価」ページを見てください。',
    # training progress and notices
    'Done in {time}.':
        '完了（{time}）。',
    'A picture was left out because it cannot be read: {path}':
        '読み込めない画像を除外しました: {path}',
    'Too few pictures to keep some aside for checking: it trains on all of them and cannot say how well it does on new ones.':
        '確認用に取っておけるほど画像がありません。すべての画像で学習するため、新しい画像でどのくらい正しいかはわかりません。',
    'Some classes have only one picture: training works, but its accuracy cannot be checked until you add more.':
        '画像が 1 枚しかないクラスがあります。学習はできますが、画像を追加するまで正解率は確認できません。',
    'Stopped early after round {epoch}: it was no longer getting better.':
        '{epoch} 回目で早めに終了しました。それ以上良くならなかったためです。',
    'The app tried several settings on your pictures and kept: {chosen}.':
        'アプリが画像でいくつかの設定を試し、次の設定を選びました: {chosen}。',
    'the usual settings':
        '標準の設定',
    'Preparing from your pictures…':
        '画像から準備しています…',
    'Trying settings on your pictures…':
        '画像で設定を試しています…',
    'Working…':
        '処理中…',
    '{time} so far':
        '経過 {time}',
    # imports and class names
    'A class needs a name.':
        'クラスには名前が必要です。',
    '“{name}” cannot be a class name: leave out / \\ : * ? " < > | and do not start with a dot.':
        '「{name}」はクラス名に使えません。/ \\ : * ? " < > | を使わず、先頭をドットにしないでください。',
    'That class name is too long: 80 characters at most.':
        'クラス名が長すぎます。80 文字以内にしてください。',
    'There is already a class named “{name}”.':
        '「{name}」という名前のクラスはすでにあります。',
    'A folder named “{name}” is already in {folder}: choose another name.':
        '{folder} には「{name}」という名前のフォルダーがすでにあります。別の名前を選んでください。',
    '{file}: not a picture file':
        '{file}: 画像ファイルではありません',
    '{file}: damaged, or not a picture':
        '{file}: 壊れているか、画像ではありません',
    'Import a folder of class folders':
        'クラスごとのフォルダーを取り込む',
    'This folder holds {count} folders of pictures. Import each folder as the class of the same name? This is what will happen:':
        'このフォルダーには画像のフォルダーが {count} 個あります。各フォルダーを同じ名前のクラスとして取り込みますか？ 次のようになります:',
    'Import as classes':
        'クラスとして取り込む',
    'Put all {count} into “{name}”':
        '{count} 枚すべてを「{name}」に入れる',
    '“{folder}”: left out: {reason}':
        '「{folder}」: 除外します: {reason}',
    '“{folder}”: {count} pictures → new class “{name}”':
        '「{folder}」: {count} 枚 → 新しいクラス「{name}」',
    '“{folder}”: {count} pictures → existing class “{name}”':
        '「{folder}」: {count} 枚 → 既存のクラス「{name}」',
    '{count} files lying directly in the folder → the selected class “{name}”':
        'フォルダー直下のファイル {count} 個 → 選択中のクラス「{name}」',
    '{count} files lying directly in the folder: left out (no class selected)':
        'フォルダー直下のファイル {count} 個: 除外します（クラスが選ばれていません）',
    'Choose or add a class first: the pictures go into the selected class.':
        '先にクラスを選ぶか追加してください。画像は選択中のクラスに入ります。',
    'Add {count} classes from folders':
        'フォルダーから {count} 個のクラスを追加',
    'Importing {count} pictures…':
        '{count} 枚の画像を取り込んでいます…',
    # help menu and folders
    'About':
        'このアプリについて',
    'VPT Inspection teaches one inspection model many tasks from a few pictures each. Licence: Apache-2.0. Versions, for a support call:':
        'VPT 検査は、1 つの検査モデルに、それぞれ少ない画像から多くのタスクを教えます。ライセンス: Apache-2.0。サポートに問い合わせるときのバージョン情報:',
    'Operator guide':
        '操作ガイド',
    '<b>1 Capture.</b> Choose where the pictures come from (a camera, a video, a network camera or a folder) and press Start. Add a class for each kind of part or defect, for example “ok” and “scratch”. Choose a class with the number keys, then press Space to take a picture or B for a burst. Take at least 5, better 20, pictures per class, of different parts.':
        '<b>1 撮影。</b> 映像の入力元（カメラ、動画、ネットワークカメラ、フォルダー）を選んで「開始」を押します。部品や不良の種類ごとにクラスを追加します（例:「良品」と「傷」）。数字キーでクラスを選び、スペースキーで 1 枚、B キーで連続撮影します。クラスごとに、別々の部品を少なくとも 5 枚、できれば 20 枚撮影してください。',
    '<b>2 Train.</b> Give the task a name and press Start training. The checks above the button say what is missing. The bar shows the whole run and the time left.':
        '<b>2 学習。</b> タスクに名前を付けて「学習を開始」を押します。ボタンの上の確認項目に、足りないものが表示されます。バーは学習全体の進み具合と残り時間を示します。',
    "<b>3 Evaluate.</b> The big figure is how often the task was right on pictures it did not learn from: trust this one. “Check on the project's pictures” tests it on pictures taken after training; click a red cell to see the pictures it got wrong, and move them to the right class if they were sorted wrongly.":
        '<b>3 評価。</b> 大きな数値は、学習していない画像でタスクが正解した割合です。この数値を信頼してください。「プロジェクトの画像で確認」は学習のあとに撮影した画像でテストします。赤いセルをクリックすると誤判定の画像が表示されます。分類が間違っていた画像は正しいクラスへ移してください。',
    '<b>4 Export.</b> Tick the tasks the station should run and press Build bundle. Copy the bundle folder to the station.':
        '<b>4 書き出し。</b> ステーションで使うタスクにチェックを入れて「バンドルを作成」を押します。バンドルのフォルダーをステーションにコピーします。',
    '<b>5 Live.</b> Press Start inspection. Good parts show in green, defects in red, and “Not sure” in amber: check those parts by hand. Use Good results… to say which classes are good.':
        '<b>5 ライブ。</b>「検査を開始」を押します。良品は緑、不良は赤、「判定できません」は黄色で表示されます。黄色の部品は人が確認してください。どのクラスが良品かは「良品の設定…」で指定します。',
    "Mistakes can be undone with Ctrl+Z. Deleted pictures go to the project's trash. Everything is saved as you go.":
        '間違えた操作は Ctrl+Z で元に戻せます。削除した画像はプロジェクトのごみ箱に移ります。変更はその都度保存されます。',
    'No file manager could be opened on this computer. The folder is:\n{folder}\n\nIts path was copied, so you can paste it elsewhere.':
        'このコンピューターではファイルマネージャーを開けませんでした。フォルダーの場所:\n{folder}\n\n場所をコピーしたので、ほかの場所に貼り付けられます。',
    # training settings
    'Automatic settings (recommended)':
        '自動設定（おすすめ）',
    # model texts
    'Smaller to download than the one above and as fast. Downloaded once, then used without internet.':
        '上のモデルよりダウンロードが小さく、速さは同じです。1 回ダウンロードすれば、その後はインターネットなしで使えます。',
}
